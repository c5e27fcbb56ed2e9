"""Responding to a consultation in one guided journey (issue 17, item 2): a few short steps saved as
a draft and resumable until the deadline, a check-your-answers page, and a submission that turns
each answer into what already exists (a reflection, an aligned-work record, an offer to help), with
a reference number, a confirmation and an emailed copy."""
