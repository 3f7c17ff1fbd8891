from django import template

from apps.quizzes.times import when as _when

register = template.Library()


@register.filter
def when(moment):
    """A quiz time in the viewer's time zone, with the zone's name: {{ quiz.closes_at|when }}."""
    return _when(moment)
