from django.contrib import admin

from console.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created", "actor_name", "action", "target", "outcome", "engine"]
    list_filter = ["outcome", "action"]
    search_fields = ["target", "actor_name", "target_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
