from django.urls import path

from console.terminals import views

urlpatterns = [
    path("<int:pk>/", views.recording_player, name="terminal_recording"),
    path("<int:pk>.cast", views.recording_download, name="terminal_recording_download"),
]
