"""Forms of webinars: they carry CSRF and what was typed; services.check_schedule decides what is
acceptable, so the rules live in one place."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField

from ..templating import local_time
from .services import Schedule


class MarkedRequired:
    """Marks a field required for the form macros without checking it (the service does)."""

    field_flags = {"required": True}

    def __call__(self, form: object, field: object) -> None:
        return None


class WebinarForm(FlaskForm):
    title = StringField("Title", validators=[MarkedRequired()])
    description = TextAreaField("Description (optional)")
    date = StringField("Date", validators=[MarkedRequired()])
    starts = StringField("Start time", validators=[MarkedRequired()])
    ends = StringField("End time", validators=[MarkedRequired()])
    capacity = StringField("Number of places", validators=[MarkedRequired()])
    joining_link = StringField("Joining link", validators=[MarkedRequired()])
    recording_link = StringField("Link to the recording (optional)")

    @classmethod
    def filled_with(cls, webinar) -> WebinarForm:  # noqa: ANN001
        starts, ends = local_time(webinar.starts_at), local_time(webinar.ends_at)
        return cls(
            data={
                "title": webinar.title,
                "description": webinar.description,
                "date": starts.strftime("%Y-%m-%d"),
                "starts": starts.strftime("%H:%M"),
                "ends": ends.strftime("%H:%M"),
                "capacity": str(webinar.capacity),
                "joining_link": webinar.joining_link,
                "recording_link": webinar.recording_link,
            }
        )

    def schedule(self) -> Schedule:
        return Schedule(**{name: self[name].data or "" for name in Schedule.__dataclass_fields__})


class ButtonForm(FlaskForm):
    """A button that changes something: only its CSRF token."""
