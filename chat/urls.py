from django.urls import path

from chat import views

app_name = "chat"

urlpatterns = [
    path("rooms/", views.RoomListView.as_view(), name="rooms"),
    path("rooms/<int:pk>/", views.RoomDetailView.as_view(), name="room"),
    path("rooms/<int:pk>/messages/", views.RoomMessagesView.as_view(), name="room-messages"),
    path("rooms/<int:pk>/read/", views.RoomReadView.as_view(), name="room-read"),
    path("messages/<int:pk>/", views.MessageDetailView.as_view(), name="message"),
    path("messages/<int:pk>/attachment/", views.MessageAttachmentView.as_view(), name="message-attachment"),
    path("ws-ticket/", views.WsTicketView.as_view(), name="ws-ticket"),
]
