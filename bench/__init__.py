"""`make bench`: seed a large PostgreSQL database and measure Walkaway under load."""
