"""The organization switcher: the organizations of the data directory (those with tools), the
current one marked; typing a new name opens that organization (it exists once it has a tool)."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from workbench.names import ORG
from workbench.tui.errors import ReportsWorkerErrors
from workbench.tui.uses_api import UsesApi
from workbench.tui.widgets.dialogs import DIALOG_CSS


class OrganizationsListed(Message):
    """The organizations that have tools here."""

    def __init__(self, organizations: list[str]) -> None:
        super().__init__()
        self.organizations = organizations


class OrganizationDialog(UsesApi, ReportsWorkerErrors, ModalScreen[str | None]):
    """Pick an organization; dismisses with its name, or None."""

    SCOPED_CSS = False  # its rules name the screen's size classes (Screen.-short ...)

    DEFAULT_CSS = DIALOG_CSS + """
    OrganizationDialog { align: center middle; }
    OrganizationDialog OptionList { height: auto; max-height: 12; margin-top: 1; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="organizations.cancel"),
        Binding("down", "to_list", "List", show=False, id="organizations.to_list"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.organizations: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Organization", classes="title")
            yield Input(placeholder="filter, or a new organization's name", id="org-name", compact=True)
            yield OptionList(id="organizations")
            yield Static("", classes="error", id="form-error")
            yield Static(Content("enter opens · esc cancels · only organizations with tools are listed"), classes="preview")

    def on_mount(self) -> None:
        self.query_one(OptionList).loading = True
        self.list_organizations()

    @work(thread=True, exclusive=True, group="organizations", exit_on_error=False, description="Listing organizations")
    def list_organizations(self) -> None:
        self.post_message(OrganizationsListed(self.api.list_organizations()))

    @on(OrganizationsListed)
    def show_organizations(self, message: OrganizationsListed) -> None:
        self.organizations = sorted(set(message.organizations) | {self.org})
        self.query_one(OptionList).loading = False
        self.refresh_options()

    def work_failed(self, worker: object, message: str) -> None:
        self.query_one(OptionList).loading = False
        self.query_one("#form-error", Static).update(Content(message))

    def refresh_options(self) -> None:
        typed = self.query_one(Input).value.strip()
        shown = [org for org in self.organizations if typed.lower() in org.lower()]
        options = self.query_one(OptionList)
        options.clear_options()
        for org in shown:
            label = Content.assemble(org, ("  (current)", "dim")) if org == self.org else Content(org)
            options.add_option(Option(label, id=org))
        if typed and typed not in self.organizations:
            options.add_option(Option(Content.assemble(("new: ", "dim"), typed), id=typed))
        if options.option_count:
            options.highlighted = 0

    @on(Input.Changed)
    def typed(self) -> None:
        self.query_one("#form-error", Static).update("")
        self.refresh_options()

    @on(Input.Submitted)
    def submitted(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None and options.option_count:
            self.choose(options.get_option_at_index(options.highlighted).id or "")
        else:
            self.choose(self.query_one(Input).value.strip())

    @on(OptionList.OptionSelected)
    def selected(self, event: OptionList.OptionSelected) -> None:
        self.choose(event.option.id or "")

    def choose(self, org: str) -> None:
        if not ORG.match(org):
            self.query_one("#form-error", Static).update(
                Content(f"{org!r} is not an organization name: use 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit")
            )
            return
        self.dismiss(org)

    def action_to_list(self) -> None:
        self.query_one(OptionList).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)
