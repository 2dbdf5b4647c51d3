"""The LP's progress update form. Its fields depend on the case's open actions, so the form
class is built for each update; field names are `action_<id>`, `action_<id>_note`,
`question_<n>` and `question_<n>_comment`, which the services' errors name too."""

from wtforms import SubmitField
from wtforms.validators import InputRequired, Length, Optional

from maf.forms import Form, GovRadioField, GovSubmitInput, GovTextAreaField, VersionField
from maf.outcomes.models import Action, ActionProgressStatus, ProgressAnswer, ProgressUpdate
from maf.outcomes.progress import NOT_ASKED, QUESTIONS, ActionReport, Answer, ProgressDetails

NOTE_LENGTH = 1000  # the columns' size
# The choice for a question the lead professional did not ask: chosen, never assumed.
NOT_ASKED_CHOICE = "not_asked"
TEXT_LENGTH = 5000


def _length(label: str, limit: int) -> Length:
    return Length(max=limit, message=f"{label} must be {limit} characters or fewer")


class ProgressForm(Form):
    """Base of the per-update form classes made by `progress_form`."""

    actions: list[Action]

    def action_fields(self):
        """(action, status field, note field) in the order shown."""
        return [
            (action, self[f"action_{action.id}"], self[f"action_{action.id}_note"])
            for action in self.actions
        ]

    def question_fields(self):
        """(number, answer field, comment field) for the questionnaire."""
        return [
            (number, self[f"question_{number}"], self[f"question_{number}_comment"])
            for number in range(1, len(QUESTIONS) + 1)
        ]

    def details(self) -> ProgressDetails:
        return ProgressDetails(
            actions=[
                ActionReport(action, ActionProgressStatus(status.data), note.data or "")
                for action, status, note in self.action_fields()
            ],
            answers={
                number: Answer(
                    None if answer.data == NOT_ASKED_CHOICE else ProgressAnswer(answer.data),
                    comment.data or "",
                )
                for number, answer, comment in self.question_fields()
            },
            summary=self.summary.data or "",
            further_comments=self.further_comments.data or "",
        )


def progress_form(actions: list[Action], sent: ProgressUpdate | None = None) -> ProgressForm:
    """The form for these actions; `sent` fills it in with what was sent before, for a GET
    (on a POST only what was typed counts, so a cleared answer is not quietly restored)."""
    # Fields are made in the order of the page, which the error summary follows.
    fields = {}
    for action in actions:
        fields[f"action_{action.id}"] = GovRadioField(
            action.description,
            description=f"{action.owner_name}, due {action.due_on:%-d %B %Y}",
            choices=[(status.value, status.label) for status in ActionProgressStatus],
            validators=[
                InputRequired(
                    message=f"Select whether “{action.description}” is done, in progress "
                    f"or not started"
                )
            ],
        )
        fields[f"action_{action.id}_note"] = GovTextAreaField(
            "Note (optional)", validators=[Optional(), _length("The note", NOTE_LENGTH)]
        )
    for number, question in enumerate(QUESTIONS, 1):
        fields[f"question_{number}"] = GovRadioField(
            f"{number}. {question}",
            choices=[
                *((answer.value, answer.label) for answer in ProgressAnswer),
                (NOT_ASKED_CHOICE, NOT_ASKED),
            ],
            validators=[
                InputRequired(
                    message=f"Select how the child or young person answered question "
                    f"{number}, or Not asked"
                )
            ],
        )
        fields[f"question_{number}_comment"] = GovTextAreaField(
            f"What they said about question {number} (optional)",
            validators=[Optional(), _length("The comment", NOTE_LENGTH)],
        )
    fields["summary"] = GovTextAreaField(
        "Summary of progress since the last meeting",
        validators=[
            InputRequired(message="Enter a summary of progress since the last meeting"),
            _length("The summary", TEXT_LENGTH),
        ],
    )
    fields["further_comments"] = GovTextAreaField(
        "Anything else (optional)",
        description="Anything else the child, young person or family wants the forum to know",
        validators=[Optional(), _length("What you add", TEXT_LENGTH)],
    )
    fields["version"] = VersionField()
    fields["submit"] = SubmitField("Send the update", widget=GovSubmitInput())
    form_class = type("ProgressUpdateForm", (ProgressForm,), fields)
    form = form_class(data=_sent_before(sent) if sent is not None else None)
    form.actions = actions
    return form


def _sent_before(progress: ProgressUpdate) -> dict:
    data = {
        "summary": progress.summary,
        "further_comments": progress.further_comments,
        "version": progress.version,
    }
    for row in progress.action_progress:
        data[f"action_{row.action_id}"] = row.status.value
        data[f"action_{row.action_id}_note"] = row.note
    if progress.submitted_at is not None:  # a question without an answer was not asked
        for number in range(1, len(QUESTIONS) + 1):
            data[f"question_{number}"] = NOT_ASKED_CHOICE
    for row in progress.answers:
        data[f"question_{row.question}"] = row.answer.value
        data[f"question_{row.question}_comment"] = row.comment
    return data
