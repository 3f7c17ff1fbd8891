"""Page forms. They only read the fields; the rules live in services and selectors, as for the API."""

from __future__ import annotations

from django import forms

from apps.generation import selectors, services

MODE_CHOICES = [(mode, rules.label) for mode, rules in services.MODES.items()]


class ModeSelect(forms.RadioSelect):
    """The mode radio buttons, those this server cannot run disabled."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.unavailable: set[str] = set()

    def create_option(self, name, value, *args, **kwargs) -> dict:
        option = super().create_option(name, value, *args, **kwargs)
        if value in self.unavailable:
            option["attrs"]["disabled"] = True
        return option


class GenerateForm(forms.Form):
    prompt = forms.CharField(
        label="Prompt",
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": services.MAX_PROMPT_CHARS}),
        help_text="What the image should show, e.g. “chest X-ray with a right-sided pneumothorax”.",
    )
    negative_prompt = forms.CharField(
        label="Negative prompt",
        required=False,
        widget=forms.TextInput(attrs={"maxlength": services.MAX_PROMPT_CHARS}),
        help_text="What the image should not show, e.g. “text, arrows, blur”.",
    )
    mode = forms.ChoiceField(label="Mode", choices=MODE_CHOICES, initial=services.FAST, widget=ModeSelect)
    steps = forms.IntegerField(
        label="Steps", required=False, help_text="Fast: 4–8 (default 4). Quality: 25–50 (default 30)."
    )
    guidance = forms.FloatField(
        label="Guidance", required=False, help_text="Fast: 1–3 (default 1.5). Quality: 5–9 (default 7.5)."
    )
    seed = forms.IntegerField(
        label="Seed",
        required=False,
        help_text="Leave empty for a random one; the same seed gives the same image.",
    )
    count = forms.IntegerField(label="Images", initial=1, min_value=1, max_value=services.MAX_COUNT)

    def __init__(self, *args, available: selectors.Availability | None = None, **kwargs) -> None:
        """With `available`, fast mode is disabled where its adapter is missing, and a pre-filled fast
        request ("Make it again") starts from quality mode's own steps and guidance instead."""
        super().__init__(*args, **kwargs)
        if available is not None and available.generate and not available.fast:
            self.fields["mode"].widget.unavailable = {services.FAST}
            self.fields["mode"].help_text = selectors.FAST_UNAVAILABLE
            if self.initial.get("mode", services.FAST) == services.FAST:
                self.initial = {
                    name: value for name, value in self.initial.items() if name not in ("steps", "guidance")
                }
                self.initial["mode"] = services.QUALITY

    def params(self) -> dict:
        data = self.cleaned_data
        return {
            name: data[name]
            for name in ("prompt", "negative_prompt", "mode", "steps", "guidance", "seed", "count")
        }


class DescribeForm(forms.Form):
    q = forms.CharField(label="Condition or finding", max_length=1000)
    q2 = forms.CharField(
        label="Compare with (optional)",
        max_length=1000,
        required=False,
        help_text="A second condition: both are described side by side.",
    )
    k = forms.IntegerField(
        label="Captions to use",
        initial=selectors.DEFAULT_K,
        min_value=selectors.K_RANGE[0],
        max_value=selectors.K_RANGE[1],
        help_text="How many of the best-matching captions the model is given (1–10).",
    )

    def queries(self) -> list[str]:
        return [self.cleaned_data["q"], self.cleaned_data.get("q2", "")]
