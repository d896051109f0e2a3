"""A process definition as the engine reads it: the BPMN a request runs, parsed once into elements and flows.

Parsing is permissive on purpose: every element of a ``<bpmn:process>`` is kept with its tag, its
attributes (ProcessMaker's ``pm:*`` attributes by their local name, as nayra's ``getProperties()`` shows
them), its event definitions and its flows. Whether the engine can run an element is decided when a
token reaches it (``engine.py``), so a definition that holds an unsupported element in a branch no
request takes still runs, like it does in ProcessMaker.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from . import bpmn

BPMN = f"{{{bpmn.BPMN_NS}}}"
PM = f"{{{bpmn.PM_NS}}}"

# Children of a <bpmn:process> that are not flow nodes (they never hold a token).
NOT_FLOW_NODES = frozenset({
    "sequenceFlow", "laneSet", "textAnnotation", "association", "dataObject", "dataObjectReference",
    "dataStoreReference", "documentation", "extensionElements", "ioSpecification", "property", "group",
    "category",
})


@dataclass(frozen=True)
class Flow:
    id: str
    source: str
    target: str
    name: str = ""
    condition: str | None = None  # the text of <conditionExpression>; None when the flow has none
    language: str | None = None  # its ``language`` attribute


@dataclass
class Element:
    id: str
    tag: str  # BPMN local name: startEvent, task, userTask, exclusiveGateway, ...
    name: str
    process_id: str
    attributes: dict[str, str] = field(default_factory=dict)  # local names (pm:dueIn -> dueIn)
    event_definitions: list[str] = field(default_factory=list)  # e.g. ["terminateEventDefinition"]
    loop: str | None = None  # multiInstanceLoopCharacteristics / standardLoopCharacteristics
    incoming: list[str] = field(default_factory=list)  # flow ids, in document order
    outgoing: list[str] = field(default_factory=list)
    attached_to: str | None = None  # boundary events: the activity they sit on

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attributes.get(name, default)


@dataclass
class Definition:
    elements: dict[str, Element] = field(default_factory=dict)
    flows: dict[str, Flow] = field(default_factory=dict)
    process_names: dict[str, str] = field(default_factory=dict)

    def element(self, element_id: str) -> Element | None:
        return self.elements.get(element_id)

    def outgoing(self, element: Element) -> list[Flow]:
        return [self.flows[flow_id] for flow_id in element.outgoing]

    def incoming(self, element: Element) -> list[Flow]:
        return [self.flows[flow_id] for flow_id in element.incoming]

    def boundary_events(self, element: Element) -> list[Element]:
        return [other for other in self.elements.values() if other.attached_to == element.id]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attributes(node: ET.Element) -> dict[str, str]:
    return {_local(name): value for name, value in node.attrib.items()}


def parse(text: str) -> Definition:
    """The definition, or ValueError (DOMDocument's message) when the BPMN does not load."""
    root = bpmn.parse(text)
    definition = Definition()
    for process in root.iter(f"{BPMN}process"):
        process_id = process.get("id", "")
        definition.process_names[process_id] = process.get("name", "")
        _read_container(definition, process, process_id)
    # Flows in document order give each node its incoming and outgoing lists.
    for flow in definition.flows.values():
        source = definition.elements.get(flow.source)
        target = definition.elements.get(flow.target)
        if source is not None:
            source.outgoing.append(flow.id)
        if target is not None:
            target.incoming.append(flow.id)
    return definition


def _read_container(definition: Definition, container: ET.Element, process_id: str) -> None:
    for node in container:
        tag = _local(node.tag)
        if tag == "sequenceFlow":
            condition = node.find(f"{BPMN}conditionExpression")
            definition.flows[node.get("id", "")] = Flow(
                id=node.get("id", ""),
                source=node.get("sourceRef", ""),
                target=node.get("targetRef", ""),
                name=node.get("name", ""),
                condition=None if condition is None else (condition.text or ""),
                language=None if condition is None else condition.get("language"),
            )
            continue
        if tag in NOT_FLOW_NODES or not node.get("id"):
            continue
        element = Element(
            id=node.get("id", ""),
            tag=tag,
            name=node.get("name", ""),
            process_id=process_id,
            attributes=_attributes(node),
            attached_to=node.get("attachedToRef"),
        )
        for child in node:
            child_tag = _local(child.tag)
            if child_tag.endswith("EventDefinition"):
                element.event_definitions.append(child_tag)
            elif child_tag in ("multiInstanceLoopCharacteristics", "standardLoopCharacteristics"):
                element.loop = child_tag
        definition.elements[element.id] = element
