from django.urls import path

from chat import views

app_name = "chat"

urlpatterns = [
    path("rooms/", views.RoomListView.as_view(), name="rooms"),
    path("rooms/<id:pk>/", views.RoomDetailView.as_view(), name="room"),
    path("rooms/<id:pk>/messages/", views.RoomMessagesView.as_view(), name="room-messages"),
    path("rooms/<id:pk>/read/", views.RoomReadView.as_view(), name="room-read"),
    path("messages/<id:pk>/", views.MessageDetailView.as_view(), name="message"),
    path("messages/<id:pk>/attachment/", views.MessageAttachmentView.as_view(), name="message-attachment"),
    path("ws-ticket/", views.WsTicketView.as_view(), name="ws-ticket"),
]
