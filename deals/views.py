from django.http import HttpResponse


def deal_list(request):
    return HttpResponse("Deals")


def deal_detail(request, pk):
    return HttpResponse("Deal")
