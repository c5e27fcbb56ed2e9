"""Following and notifications: who is told what happened, in the app and by mail.

`kinds.py` names the kinds of notification and how each is mailed by default; `following.py` the
follows; `telling.py` the worker's part (from an audit event to notifications and mails);
`wording.py` the words of a notification; `reading.py` a person's notifications; the routes are in
`views.py` (`bp`), registered by `create_app`.
"""
