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


BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
MULTIPLE_DIAGRAMS = "Multiple diagrams are not supported"

# Every element BPMN 2.0's semantic schema (Semantic.xsd) declares, by local name.
_SEMANTIC_ELEMENTS = """
definitions import extension documentation extensionElements process laneSet lane childLaneSet flowNodeRef
startEvent endEvent intermediateCatchEvent intermediateThrowEvent boundaryEvent implicitThrowEvent
task userTask manualTask scriptTask serviceTask sendTask receiveTask businessRuleTask callActivity subProcess
adHocSubProcess transaction callChoreography subChoreography choreographyTask exclusiveGateway
inclusiveGateway parallelGateway complexGateway eventBasedGateway sequenceFlow messageFlow association
dataObject dataObjectReference dataStore dataStoreReference dataInput dataOutput dataInputAssociation
dataOutputAssociation dataState ioSpecification inputSet outputSet dataInputRefs dataOutputRefs
optionalInputRefs optionalOutputRefs whileExecutingInputRefs whileExecutingOutputRefs inputSetRefs
outputSetRefs ioBinding property textAnnotation text group category categoryValue collaboration
participant participantMultiplicity participantAssociation participantRef messageFlowRef
messageFlowAssociation conversation subConversation callConversation conversationLink conversationNode
conversationAssociation correlationKey correlationProperty correlationPropertyRef
correlationPropertyRetrievalExpression correlationPropertyBinding correlationSubscription messagePath
dataPath message signal error escalation interface operation inMessageRef outMessageRef errorRef
endPoint itemDefinition resource resourceParameter resourceParameterBinding resourceRole
resourceAssignmentExpression resourceRef performer humanPerformer potentialOwner globalTask
globalUserTask globalManualTask globalScriptTask globalBusinessRuleTask globalConversation
globalChoreographyTask choreography partnerEntity partnerRole eventDefinition eventDefinitionRef
messageEventDefinition timerEventDefinition conditionalEventDefinition signalEventDefinition
errorEventDefinition escalationEventDefinition compensateEventDefinition cancelEventDefinition
linkEventDefinition terminateEventDefinition timeDate timeCycle timeDuration condition
conditionExpression completionCondition activationCondition loopCondition loopCardinality
standardLoopCharacteristics multiInstanceLoopCharacteristics complexBehaviorDefinition
inputDataItem outputDataItem loopDataInputRef loopDataOutputRef oneBehaviorEventRef
noneBehaviorEventRef script incoming outgoing source target sourceRef targetRef supportedInterfaceRef
transformation assignment from to expression formalExpression rendering relationship auditing
monitoring lanes flowElement artifact rootElement baseElement
"""
BPMN_ELEMENTS = frozenset(_SEMANTIC_ELEMENTS.split())

# Attributes Semantic.xsd marks use="required", per element.
REQUIRED_ATTRIBUTES = {
    "definitions": ("targetNamespace",),
    "sequenceFlow": ("sourceRef", "targetRef"),
    "messageFlow": ("sourceRef", "targetRef"),
    "association": ("sourceRef", "targetRef"),
}
_ID_NAMESPACES = (BPMN_NS, BPMNDI_NS, DC_NS, DI_NS)
_NCNAME = re.compile(r"^[A-Za-z_][\w.\-]*$")


def _schema_errors(root: ET.Element) -> list[str]:
    """The BPMN 2.0 schema checks a ``DOMDocument::schemaValidate()`` reports most often: elements BPMN
    does not declare, required attributes that are missing, ids that are not unique ``xs:ID`` values."""
    problems: list[str] = []
    seen: set[str] = set()
    for element in root.iter():
        namespace, _, local = element.tag[1:].partition("}") if element.tag.startswith("{") else ("", "", element.tag)
        if namespace == BPMN_NS:
            if local not in BPMN_ELEMENTS:
                problems.append(f"Element '{element.tag}': This element is not expected.")
                continue
            for attribute in REQUIRED_ATTRIBUTES.get(local, ()):
                if attribute not in element.attrib:
                    problems.append(f"Element '{element.tag}': The attribute '{attribute}' is required but missing.")
        identifier = element.get("id")
        if namespace in _ID_NAMESPACES and identifier is not None:
            if not _NCNAME.match(identifier):
                problems.append(f"Element '{element.tag}', attribute 'id': '{identifier}' is not a valid value of "
                                "the atomic type 'xs:ID'.")
            elif identifier in seen:
                problems.append(f"Element '{element.tag}', attribute 'id': Duplicate key-sequence ['{identifier}'].")
            seen.add(identifier)
    return problems


def errors(text: Any) -> list[str]:
    """What ProcessController::validateBpmn reports (empty when the definition is fine): the load error
    alone, else the schema problems and, for more than one BPMNDiagram, "Multiple diagrams are not
    supported"."""
    try:
        root = parse(text)
    except ValueError as error:
        return [str(error)]
    problems = _schema_errors(root)
    if len(root.findall(f".//{{{BPMNDI_NS}}}BPMNDiagram")) > 1:
        problems.append(MULTIPLE_DIAGRAMS)
    return problems


def loads(text: Any) -> bool:
    """The definition is XML with a BPMN ``definitions`` root (it can be saved, with warnings or not)."""
    try:
        parse(text)
    except ValueError:
        return False
    return True


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
            found = {
                "id": event.get("id"),
                "name": event.get("name", ""),
                "eventDefinitions": definitions,
                "ownerProcessId": process.get("id"),
                "ownerProcessName": process.get("name", ""),
                "allowInterstitial": event.get(f"{{{PM_NS}}}allowInterstitial") == "true",
                "config": event.get(f"{{{PM_NS}}}config"),
            }
            # Who may start it (Process::getStartEvents filters on these attributes).
            for attribute in ("assignment", "assignedUsers", "assignedGroups"):
                value = event.get(f"{{{PM_NS}}}{attribute}")
                if value is not None:
                    found[attribute] = value
            events.append(found)
    return events


def has_timer_start_events(events: list[dict[str, Any]]) -> bool:
    return any(d["$type"] == "timerEventDefinition" for event in events for d in event["eventDefinitions"])


@dataclass(frozen=True)
class Reference:
    kind: str  # "screen" or "script"
    asset_id: int
    path: str  # where it is, as an XPath: //*[@id="node_2"]


def _elements(text: str) -> list:
    """Every element of a definition in document order; none when it does not parse."""
    try:
        return list(parse(text).iter())
    except ValueError:
        return []


def _path(element) -> str:
    return f'//*[@id="{element.get("id", "")}"]'


def references(text: str) -> list[Reference]:
    """The screens and scripts the definition refers to, in document order."""
    found = []
    for element in _elements(text):
        tag = _local(element.tag)
        for kind, tags, attribute in (("screen", SCREEN_TAGS, "screenRef"), ("script", SCRIPT_TAGS, "scriptRef")):
            value = element.get(f"{{{PM_NS}}}{attribute}", "")
            if tag in tags and value.isdigit():
                found.append(Reference(kind, int(value), _path(element)))
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
    found = []
    for element in _elements(text):
        if _local(element.tag) in ASSIGNMENT_TAGS:
            found.append(Assignment(
                _path(element),
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
