from django.urls import path

from store import views

urlpatterns = [
    path("return/", views.return_page, name="return"),
    path("api/me/", views.me),
    path("api/catalog/", views.catalog),
    path("api/baskets/", views.baskets),
    path("api/baskets/<str:ref>/", views.basket_detail),
    path("api/baskets/<str:ref>/lines/", views.basket_lines),
    path("api/baskets/<str:ref>/lines/<str:sku>/", views.basket_line),
    path("api/baskets/<str:ref>/checkout/", views.checkout),
    path("api/purchases/", views.purchases),
    path("api/purchases/<str:ref>/", views.purchase_detail),
    path("api/purchases/<str:ref>/refund/", views.purchase_refund),
]
