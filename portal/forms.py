from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.utils.translation import gettext_lazy as _


class BootstrapFormMixin:
    """Gives every widget Bootstrap's class so templates can render fields plainly."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()


class LoginForm(AuthenticationForm):
    username = forms.CharField(label=_("用户名"), widget=forms.TextInput(attrs={"autofocus": True}))
    password = forms.CharField(label=_("密码"), strip=False, widget=forms.PasswordInput)
    error_messages = {
        "invalid_login": _("用户名或密码不正确。连续多次输入错误后账号将被暂时锁定。"),
        "inactive": _("该账号已停用。"),
    }


class PortalPasswordChangeForm(BootstrapFormMixin, PasswordChangeForm):
    pass
