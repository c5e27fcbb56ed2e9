"""The working draft, publishing and the consultation window: the draft is public, changing it is for facilitators."""

from . import EVERYONE, FACILITATORS, Rule

EDIT = {"title": "Objective 1.1", "body": "A new text.", "reason": "Clearer.", "lock_version": "1", "action": "save"}
ADD = {"title": "A new objective", "body": "Its text.", "position": "end", "reason": "Missing."}

RULES = [
    Rule("drafting.draft", "GET", "/visions/{slug}/draft", EVERYONE, note="DESIGN.md §4 lists the draft among public URLs"),
    Rule("drafting.edit_element", "GET", "/visions/{slug}/draft/elements/{key}/edit", FACILITATORS),
    Rule("drafting.edit_element", "POST", "/visions/{slug}/draft/elements/{key}/edit", FACILITATORS, data=EDIT),
    Rule("drafting.add_element", "GET", "/visions/{slug}/draft/add?kind=objective&parent=ambition-1", FACILITATORS),
    Rule("drafting.add_element", "POST", "/visions/{slug}/draft/add?kind=objective&parent=ambition-1", FACILITATORS, data=ADD),
    Rule("drafting.remove_element", "GET", "/visions/{slug}/draft/elements/{key}/remove", FACILITATORS),
    Rule("drafting.remove_element", "POST", "/visions/{slug}/draft/elements/{key}/remove", FACILITATORS, data={"reason": "No longer needed."}),
    Rule("drafting.move_element", "POST", "/visions/{slug}/draft/elements/{key}/move", FACILITATORS, data={"direction": "down", "from_place": "1"}),
    Rule("drafting.publish", "GET", "/visions/{slug}/publish", FACILITATORS),
    Rule("drafting.publish", "POST", "/visions/{slug}/publish", FACILITATORS, data={"notes": "Nothing new."},
         note="refused with 422 'nothing to publish' for facilitators: still allowed to ask"),
    Rule("drafting.window", "GET", "/visions/{slug}/window", FACILITATORS),
    Rule("drafting.window", "POST", "/visions/{slug}/window", FACILITATORS,
         data={"opens_date": "2030-01-01", "opens_time": "09:00", "closes_date": "2030-02-01", "closes_time": "17:00"}),
    Rule("drafting.close_window", "GET", "/visions/{slug}/window/close", FACILITATORS, note="asks to confirm"),
    Rule("drafting.close_window", "POST", "/visions/{slug}/window/close", FACILITATORS),
    Rule("drafting.reopen_window", "POST", "/visions/{slug}/window/reopen", FACILITATORS, data={"days": "7"}),
]
RULES += [
    Rule("drafting.move_element_to", "GET", "/visions/{slug}/draft/elements/{key}/move-to", FACILITATORS),
    Rule("drafting.move_element_to", "POST", "/visions/{slug}/draft/elements/{key}/move-to", FACILITATORS,
         data={"parent": "ambition-2", "position": "1"}),
]
