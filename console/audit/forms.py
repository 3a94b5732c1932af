from datetime import timedelta

from django import forms
from django.db.models import Q, QuerySet

from console.audit.models import AuditEvent

_WHEN = forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S")
_UNTIL_END = {
    len("2026-01-31"): timedelta(days=1, microseconds=-1),
    len("2026-01-31T14:00"): timedelta(minutes=1, microseconds=-1),
    len("2026-01-31T14:00:00"): timedelta(seconds=1, microseconds=-1),
}


class AuditFilterForm(forms.Form):
    """The filters of /audit/, its exports and `audit export`; all optional."""

    engine = forms.CharField(required=False, max_length=40, help_text="the engine it concerns (name)")
    user = forms.CharField(required=False, max_length=150, help_text="who did it (username)")
    action = forms.CharField(required=False, max_length=64, help_text="e.g. image.pull, or image.* for all")
    target = forms.CharField(required=False, max_length=500, help_text="text in the target or its id")
    outcome = forms.ChoiceField(
        required=False, choices=[("", "any"), *AuditEvent.Outcome.choices], help_text=", ".join(AuditEvent.Outcome)
    )
    since = forms.DateTimeField(
        required=False, label="From", help_text="UTC, e.g. 2026-01-31 or 2026-01-31T14:00", widget=_WHEN
    )
    until = forms.DateTimeField(
        required=False, label="To", help_text="UTC, inclusive: 2026-01-31 means to that day's end", widget=_WHEN
    )

    def clean_until(self):
        # "To" covers the whole day, minute or second it names.
        until = self.cleaned_data["until"]
        if until is not None:
            until += _UNTIL_END.get(len(str(self.data.get("until", "")).strip()), timedelta(0))
        return until

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            raise forms.ValidationError("“From” is after “To”.")
        return cleaned

    def filter(self, events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        """Apply the valid form's filters to `events`."""
        data = self.cleaned_data
        if data["engine"]:
            events = events.filter(engine=data["engine"])
        if data["user"]:
            events = events.filter(actor_name__iexact=data["user"])
        if action := data["action"]:
            if action.endswith("*"):
                events = events.filter(action__startswith=action.rstrip("*"))
            else:
                events = events.filter(action=action)
        if target := data["target"]:
            events = events.filter(Q(target__icontains=target) | Q(target_id__icontains=target))
        if data["outcome"]:
            events = events.filter(outcome=data["outcome"])
        if data["since"]:
            events = events.filter(created__gte=data["since"])
        if data["until"]:
            events = events.filter(created__lte=data["until"])
        return events

    def problems(self) -> str:
        return "; ".join(
            " ".join(errors) if name == "__all__" else f"{name}: {' '.join(errors)}"
            for name, errors in self.errors.items()
        )
