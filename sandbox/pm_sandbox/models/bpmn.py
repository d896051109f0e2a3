"""The BPMN a process carries: the default definition, checks, start events and asset references.

A process refers to other assets the way ProcessMaker's modeler writes them: ``pm:screenRef="<screen
id>"`` on tasks, manual tasks, start and end events, ``pm:scriptRef="<script id>"`` on script tasks,
and the users and groups a task is assigned to (``pm:assignedUsers="3,7"``, ``pm:assignedGroups="2"``
with ``pm:assignment``) on tasks, manual tasks and call activities. Export follows those references;
import rewrites them to the ids on the target.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape as xml_escape

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
PM_NS = "http://processmaker.com/BPMN/2.0/Schema.xsd"
NOT_VALID = "The bpm definition is not valid"

SCREEN_TAGS = ("task", "manualTask", "startEvent", "endEvent")
SCRIPT_TAGS = ("scriptTask",)
# ProcessExporter::exportAssignments looks at these only (not at start events, nor at bpmn:userTask).
ASSIGNMENT_TAGS = ("task", "manualTask", "callActivity")

# Written for the sandbox in the shape of ProcessMaker's OnlyStartElement.bpmn template.
DEFAULT_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" \
xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" \
xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:pm="http://processmaker.com/BPMN/2.0/Schema.xsd" \
id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn" exporter="ProcessMaker Modeler" exporterVersion="1.0">
  <bpmn:process id="ProcessId" name="ProcessName" isExecutable="true">
    <bpmn:startEvent id="node_1" name="Start Event" pm:allowInterstitial="false"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagramId">
    <bpmndi:BPMNPlane id="BPMNPlaneId" bpmnElement="ProcessId">
      <bpmndi:BPMNShape id="node_1_di" bpmnElement="node_1">
        <dc:Bounds x="150" y="210" width="36" height="36"/>
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse(text: Any) -> ET.Element:
    """The document root, or ValueError with a DOMDocument-style message."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("DOMDocument::loadXML(): Argument #1 ($source) must not be empty")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as error:
        raise ValueError(f"DOMDocument::loadXML(): {error}") from error
    if root.tag != f"{{{BPMN_NS}}}definitions":
        raise ValueError(f"Element '{root.tag}': No matching global declaration available for the validation root.")
    return root


def errors(text: Any) -> list[str]:
    """What ProcessController::validateBpmn reports; empty when the definition loads."""
    try:
        parse(text)
    except ValueError as error:
        return [str(error)]
    return []


def start_events(text: str) -> list[dict[str, Any]]:
    """The start events of every process in the definition (Process::start_events)."""
    try:
        root = parse(text)
    except ValueError:
        return []
    events = []
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        for event in process.iter(f"{{{BPMN_NS}}}startEvent"):
            definitions = [
                {"$type": _local(child.tag)} for child in event if _local(child.tag).endswith("EventDefinition")
            ]
            events.append({
                "id": event.get("id"),
                "name": event.get("name", ""),
                "eventDefinitions": definitions,
                "ownerProcessId": process.get("id"),
                "ownerProcessName": process.get("name", ""),
                "allowInterstitial": event.get(f"{{{PM_NS}}}allowInterstitial") == "true",
                "config": event.get(f"{{{PM_NS}}}config"),
            })
    return events


def has_timer_start_events(events: list[dict[str, Any]]) -> bool:
    return any(d["$type"] == "timerEventDefinition" for event in events for d in event["eventDefinitions"])


@dataclass(frozen=True)
class Reference:
    kind: str  # "screen" or "script"
    asset_id: int
    path: str  # where it is, as an XPath: //*[@id="node_2"]


def references(text: str) -> list[Reference]:
    """The screens and scripts the definition refers to, in document order."""
    try:
        root = parse(text)
    except ValueError:
        return []
    found = []
    for element in root.iter():
        tag = _local(element.tag)
        for kind, tags, attribute in (("screen", SCREEN_TAGS, "screenRef"), ("script", SCRIPT_TAGS, "scriptRef")):
            value = element.get(f"{{{PM_NS}}}{attribute}", "")
            if tag in tags and value.isdigit():
                found.append(Reference(kind, int(value), f'//*[@id="{element.get("id", "")}"]'))
    return found


@dataclass(frozen=True)
class Assignment:
    """Who an element is assigned to (Utils::getAssignments): the raw id lists, as the modeler wrote them."""

    path: str  # as Reference.path
    assignment_type: str | None  # pm:assignment ("user", "group", "user_group", ...), None when absent
    user_ids: tuple[str, ...]  # pm:assignedUsers split at commas ("" when absent, like PHP's explode)
    group_ids: tuple[str, ...]


def assignments(text: str) -> list[Assignment]:
    """Every task, manual task and call activity with its assignment, in document order."""
    try:
        root = parse(text)
    except ValueError:
        return []
    found = []
    for element in root.iter():
        if _local(element.tag) in ASSIGNMENT_TAGS:
            found.append(Assignment(
                f'//*[@id="{element.get("id", "")}"]',
                element.get(f"{{{PM_NS}}}assignment"),
                tuple(element.get(f"{{{PM_NS}}}assignedUsers", "").split(",")),
                tuple(element.get(f"{{{PM_NS}}}assignedGroups", "").split(",")),
            ))
    return found


_START_TAG = re.compile(r"""<[\w.:-]+(?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*/?>""")
_PATH_ID = re.compile(r'^//\*\[@id="([^"]*)"\]$')


def set_reference(text: str, path: str, attribute: str, value: int | None) -> str:
    """Set ``pm:<attribute>`` on the element at ``path`` to an asset id (``""`` where the asset is gone)."""
    return set_attribute(text, path, attribute, "" if value is None else str(value))


def set_attribute(text: str, path: str, attribute: str, value: str) -> str:
    """Set ``pm:<attribute>`` on the element at ``path``, adding it when the element has none (like DOM's
    setAttribute in Utils::setAttributeAtXPath).

    Works on the text so everything else stays byte for byte the same: an import that maps every id to
    itself leaves the definition untouched.
    """
    match = _PATH_ID.match(path or "")
    prefixes = re.findall(r'xmlns:([\w.-]+)="' + re.escape(PM_NS) + '"', text)
    if match is None or not prefixes:
        return text
    id_attribute = re.compile(r'\sid\s*=\s*["\']' + re.escape(match.group(1)) + r'["\']')
    ref = re.compile(r'(\s' + re.escape(prefixes[0]) + ":" + attribute + r'\s*=\s*")[^"]*(")')
    new = xml_escape(value, {'"': "&quot;"})

    def replace(tag: re.Match[str]) -> str:
        start_tag = tag.group(0)
        if not id_attribute.search(start_tag):
            return start_tag
        if ref.search(start_tag):
            return ref.sub(lambda m: m.group(1) + new + m.group(2), start_tag, count=1)
        end = -2 if start_tag.endswith("/>") else -1
        return f'{start_tag[:end].rstrip()} {prefixes[0]}:{attribute}="{new}"{start_tag[end:]}'

    return _START_TAG.sub(replace, text)
