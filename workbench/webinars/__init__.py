"""Webinars (issue 17, item 5): facilitators schedule sessions about a vision; people register, with a
waiting list when a session is full; mail confirms (with an .ics file), tells of a place that became
free, and reminds the day before (`flask --app wsgi webinars remind`)."""
