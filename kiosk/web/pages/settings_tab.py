"""The admin page's Settings tab: a field per editable setting, built from the schema, with export and import."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import gradio as gr
from pydantic.fields import FieldInfo

from kiosk.config import Config, ConfigError
from kiosk.web.auth import SESSION_COOKIE
from kiosk.web.i18n import Texts
from kiosk.web.pages.common import for_viewers
from kiosk.web.service import EDITABLE, FORM, SECRETS, KioskService, field_label, field_text

# each language in its own name, whatever the page's language
LANGUAGE_NAMES = {"en": "English", "zh": "简体中文", "en+zh": "English + 简体中文"}


def field_info(section: str, key: str) -> FieldInfo:
    return Config.section_fields(section)[key]


def field_help(texts: Texts, section: str, key: str) -> str:
    """The field's description, with its bounds (from the schema) and what an empty secret means."""
    info = field_info(section, key)
    bound = {name: getattr(m, name) for m in info.metadata for name in ("ge", "le") if hasattr(m, name)}
    help_text = field_text(texts, section, key)[1]
    if len(bound) == 2:
        help_text += texts(" ({low:g} to {high:g})", low=bound["ge"], high=bound["le"])
    return help_text + texts(" (left empty: unchanged)") if (section, key) in SECRETS else help_text


def choice_name(texts: Texts, choice: str) -> str:
    """A choice as the dropdown shows it: a language in its own name, a device by its name, a mode in words."""
    if choice in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[choice]
    return texts("as the kiosk screen") if choice == "" else texts(choice)


def settings_component(texts: Texts, section: str, key: str, value: object) -> gr.components.Component:
    """An input for one config field, built from its schema: label, help, bounds, choices; `value` until the page's
    load event fills in the values saved by then."""
    info = field_info(section, key)
    common: dict[str, Any] = {"label": field_label(texts, section, key), "info": field_help(texts, section, key),
                              "value": value}
    if get_origin(info.annotation) is Literal:
        choices = [(choice_name(texts, c), c) for c in get_args(info.annotation)]
        return gr.Dropdown(choices, **common)
    if info.annotation is bool:
        return gr.Checkbox(**common)
    if info.annotation in (int, float):
        # no minimum or maximum here: Gradio would refuse the whole form for one value; the schema checks it and
        # the error is shown at its field
        return gr.Number(precision=0 if info.annotation is int else None, **common)
    if (section, key) in SECRETS:
        return gr.Textbox(type="password", **common)
    return gr.Textbox(**common)


def readable(texts: Texts, error: ConfigError) -> str:
    """'section.key: reason' with the field's label in place of the key."""
    dotted, _, reason = str(error).partition(": ")
    section, _, key = dotted.partition(".")
    if (section, key) in EDITABLE:
        return texts("{what}: {value}", what=field_label(texts, section, key), value=reason)
    return str(error)


def settings_form(service: KioskService, page: gr.Blocks) -> None:
    tr = service.texts
    fields: dict[str, gr.components.Component] = {}
    override = gr.Markdown()
    headings = list(FORM)
    saved = service.settings()
    for row in range(0, len(headings), 3):
        with gr.Row():
            for heading in headings[row:row + 3]:
                with gr.Column():
                    gr.Markdown(f"**{tr(heading)}**")
                    for section, key in FORM[heading]:
                        fields[f"{section}.{key}"] = settings_component(tr, section, key, saved[f"{section}.{key}"])
    save = gr.Button(tr("Save settings"), variant="primary")
    result = gr.Markdown(elem_classes="settings-result")
    with gr.Row():
        gr.Markdown(tr("[Export these settings](/admin/settings.toml) (a TOML file, without passwords)"))
        importer = gr.File(label=tr("Import settings (a file exported here)"), file_types=[".toml"], type="filepath",
                           elem_classes="settings-import")
    names = list(fields)

    def current_values(request: gr.Request):
        """Each time the page opens: the values as saved now, not as they were when the page was built; a field
        still at its built value is not sent again (nor overwrites what the admin may already be typing). A viewer
        (whose page has no Settings tab) is sent nothing."""
        if not service.auth.is_admin(request.cookies.get(SESSION_COOKIE)):
            return [gr.skip()] * (len(names) + 1)
        values = service.settings()
        note = (tr("The camera is `{source}` (started with `--source`) until you change the camera source here.",
                   source=service.source_override) if service.source_override else "")
        problem = service.current().settings_problem
        if problem:
            note += "\n\n" + tr("**Saved settings were set aside:** {problem}", problem=problem)
        return [note, *(gr.skip() if values[name] == saved[name] else values[name] for name in names)]

    def marked(message: str, error: ConfigError | None = None) -> list:
        """The message, and each field's help, or for the field at fault its error in the help's place."""
        dotted = str(error).partition(": ")[0] if error else ""
        updates = []
        for name in names:
            help_text = field_help(tr, *name.split("."))
            if name == dotted:
                updates.append(gr.update(info=f"⚠ {str(error).partition(': ')[2]}", elem_classes="field-error"))
            else:
                updates.append(gr.update(info=help_text, elem_classes=""))
        return [message, *updates]

    def save_settings(*values):
        changes = {}
        for name, value in zip(names, values):
            if isinstance(value, float) and value.is_integer() and field_info(*name.split(".")).annotation is int:
                value = int(value)
            changes[name] = value
        try:
            return marked(service.apply_settings(changes))
        except ConfigError as error:
            return marked(tr("Not saved: {error}", error=readable(tr, error)), error)

    def import_settings(path: str | None):
        if not path:
            return [gr.skip()] * (len(names) + 2)
        try:
            message = service.import_settings(Path(path).read_bytes())
        except (ConfigError, OSError) as error:
            message = tr("Not imported, nothing changed: {error}",
                         error=readable(tr, error) if isinstance(error, ConfigError) else error)
        values = service.settings()
        return [tr("Import: {message}", message=message), *(values[name] for name in names), None]

    page.load(for_viewers(page, current_values), outputs=[override, *fields.values()], api_visibility="private")
    save.click(save_settings, list(fields.values()), [result, *fields.values()], api_name="save_settings")
    importer.upload(import_settings, importer, [result, *fields.values(), importer], api_visibility="private")
