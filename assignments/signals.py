"""Signals other apps connect to, so that assignments need not know them.

`assignment_published` is sent once, after the commit of the transaction that published an assignment
(draft -> published; re-opening a closed assignment does not send it), with:
- `sender`: the Assignment class,
- `assignment`: the Assignment instance,
- `student_ids`: the ids of the students who receive it, sorted.
Chat connects a receiver that posts a system message in each student's subject room.
"""

from django.dispatch import Signal

assignment_published = Signal()
