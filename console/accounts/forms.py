import unicodedata

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.core.validators import RegexValidator

from console.accounts.roles import ROLES, VIEWER

ROLE_CHOICES = [(r, r) for r in ROLES]
# ASCII only: letters from other scripts and full-width forms make names that look like another user's.
USERNAME_RULE = RegexValidator(
    r"\A[A-Za-z0-9._-]+\Z",
    "Use only ASCII letters, digits and . _ - in a username "
    "(look-alike letters from other scripts, such as Cyrillic “а”, or full-width letters are refused).",
)


def _folded(username: str) -> str:
    return unicodedata.normalize("NFKC", username).casefold()


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES)


class NewUserForm(RoleForm):
    username = forms.CharField(max_length=150, validators=[USERNAME_RULE])
    password = forms.CharField(widget=forms.PasswordInput(render_value=False), strip=False)
    field_order = ["username", "password", "role"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].initial = VIEWER

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        # Also against names made before this rule (createsuperuser takes any letters): "ADA", "ａｄａ" are "ada".
        taken = get_user_model().objects.values_list("username", flat=True)
        if _folded(username) in {_folded(name) for name in taken}:
            raise forms.ValidationError("A user with that username (or one that looks the same) already exists.")
        return username

    def clean(self):
        cleaned = super().clean()
        if "username" in cleaned and "password" in cleaned:
            candidate = get_user_model()(username=cleaned["username"])
            try:
                password_validation.validate_password(cleaned["password"], candidate)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return cleaned
