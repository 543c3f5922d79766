"""A read-only picture of a tree: its nodes in layers from the start, and labelled edges.

Layers follow the shortest path from `start`, so a lead reads the tree top to bottom; an
edge back up (a loop such as "switch it on, then ask again") bends out to the side. Colours
come from the palette, so the picture reads in light and dark themes alike.
"""

from __future__ import annotations

import math
from collections import deque
from html import escape

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import (
    QDialog,
    QGraphicsPathItem,
    QGraphicsPolygonItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QVBoxLayout,
    QWidget,
)

from workbench.trees.model import Node, NodeType, Tree

BOX_W, BOX_H, GAP_X, GAP_Y = 220.0, 64.0, 36.0, 90.0
PROMPT_CHARS = 60
# Accents on the border only: the fill and the text are the theme's own.
ACCENTS = {
    NodeType.QUESTION: "#1e88e5",
    NodeType.INPUT: "#00897b",
    NodeType.CHECK: "#fb8c00",
    NodeType.ACTION: "#8e24aa",
    NodeType.GOTO: "#757575",
    NodeType.RESOLVE: "#43a047",
    NodeType.ESCALATE: "#e53935",
}


def layers(tree: Tree) -> list[list[str]]:
    """Node ids by distance from the start; nodes the start never reaches come last."""
    depth = {tree.start: 0}
    queue = deque([tree.start])
    while queue:
        node_id = queue.popleft()
        for target in tree.nodes[node_id].successors():
            if target in tree.nodes and target not in depth:
                depth[target] = depth[node_id] + 1
                queue.append(target)
    unreached = max(depth.values(), default=0) + 1
    rows: dict[int, list[str]] = {}
    for node_id in tree.nodes:
        rows.setdefault(depth.get(node_id, unreached), []).append(node_id)
    return [rows[d] for d in sorted(rows)]


def edges(node: Node) -> list[tuple[str, str]]:
    """(target, label) of each way out of a node."""
    found = [(a.next, a.label) for a in node.answers]
    found += [(b.next, _short(b.title)) for b in node.branches]
    return found + ([(node.next, "")] if node.next else [])


def _short(text: str) -> str:
    """A branch's label (or condition) cut to fit beside an edge; the step shows it whole."""
    return text if len(text) <= 26 else text[:25] + "…"


def summary(node: Node) -> str:
    text = node.text or node.resolution or node.reason or ""
    if node.type is NodeType.GOTO:
        text = f"continue in tree {node.tree}"
    text = " ".join(text.split())
    return text if len(text) <= PROMPT_CHARS else text[: PROMPT_CHARS - 1] + "…"


class TreeDiagram(QGraphicsView):
    def __init__(self, tree: Tree, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree = tree
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.boxes: dict[str, QGraphicsRectItem] = {}
        self.edge_labels: list[str] = []
        self._draw()

    def _draw(self) -> None:
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        # Themes that paint with style sheets (qt-material) leave Base light under light text:
        # the fill follows the text's lightness instead, and the view paints its own ground.
        dark = text.lightness() > 128
        base = QColor("#263238" if dark else "#ffffff")
        self.setBackgroundBrush(QColor("#1c2429" if dark else "#f4f4f4"))
        rows = layers(self.tree)
        widest = max(len(row) for row in rows)
        self._middle = (widest * (BOX_W + GAP_X) - GAP_X) / 2
        for y, row in enumerate(rows):
            offset = (widest - len(row)) * (BOX_W + GAP_X) / 2
            for x, node_id in enumerate(row):
                rect = QRectF(offset + x * (BOX_W + GAP_X), y * (BOX_H + GAP_Y), BOX_W, BOX_H)
                self.boxes[node_id] = self._box(self.tree.nodes[node_id], rect, text, base)
        depth = {node_id: y for y, row in enumerate(rows) for node_id in row}
        for node_id, node in self.tree.nodes.items():
            ways: dict[str, list[str]] = {}  # two answers leading to one node share an edge
            for target, label in edges(node):
                if target in self.boxes:
                    ways.setdefault(target, []).append(label)
            for target, labels in ways.items():
                back = depth[target] <= depth[node_id]
                path = self._edge(self.boxes[node_id].rect(), self.boxes[target].rect(), back, text)
                # Near the target, where the edges of a fan-out have spread apart.
                self._label(" / ".join(labels), path.pointAtPercent(0.7), text, base)
        self.scene().setSceneRect(self.scene().itemsBoundingRect().adjusted(-20, -20, 20, 20))

    def _box(self, node: Node, rect: QRectF, text: QColor, base: QColor) -> QGraphicsRectItem:
        box = self.scene().addRect(rect, QPen(QColor(ACCENTS[node.type]), 2.5), QBrush(base))
        box.setZValue(1)
        box.setToolTip(node.text or node.resolution or node.reason or node.id)
        label = self.scene().addText("")  # the scene owns it (a parent item alone does not)
        label.setZValue(2)
        label.setDefaultTextColor(text)
        label.setTextWidth(BOX_W - 8)
        label.setHtml(
            f"<b>{node.type.value}</b> · {escape(node.id)}"
            f"<br><small>{escape(summary(node))}</small>"
        )
        label.setPos(rect.x() + 4, rect.y() + 2)
        return box

    def _edge(self, start: QRectF, end: QRectF, back: bool, color: QColor) -> QPainterPath:
        path = QPainterPath()
        if back and abs(start.center().y() - end.center().y()) < 1:  # same layer: loop below
            a = QPointF(start.center().x(), start.bottom())
            b = QPointF(end.center().x() + BOX_W / 4, end.bottom())
            low = start.bottom() + GAP_Y * 0.45
            path.moveTo(a)
            path.cubicTo(QPointF(a.x(), low), QPointF(b.x(), low), b)
            towards = QPointF(b.x(), low)
        elif back:  # up: out of one side, round, into the target's same side
            # The side nearer the ends, so the loop does not run behind the middle column.
            left = start.center().x() + end.center().x() < 2 * self._middle
            a = QPointF(start.left() if left else start.right(), start.center().y())
            b = QPointF(end.left() if left else end.right(), end.center().y())
            reach = GAP_X * 0.8 + abs(a.y() - b.y()) * 0.1
            bulge = min(a.x(), b.x()) - reach if left else max(a.x(), b.x()) + reach
            path.moveTo(a)
            path.cubicTo(QPointF(bulge, a.y()), QPointF(bulge, b.y()), b)
            towards = QPointF(bulge, b.y())
        else:
            a, b = QPointF(start.center().x(), start.bottom()), QPointF(end.center().x(), end.top())
            path.moveTo(a)
            path.cubicTo(QPointF(a.x(), a.y() + GAP_Y / 2), QPointF(b.x(), b.y() - GAP_Y / 2), b)
            towards = QPointF(b.x(), b.y() - GAP_Y / 2)
        tip = b
        pen = QPen(color, 1.2)
        item = QGraphicsPathItem(path)
        item.setPen(pen)
        self.scene().addItem(item)
        angle = math.atan2(tip.y() - towards.y(), tip.x() - towards.x())
        head = QPolygonF(
            [tip]
            + [
                QPointF(tip.x() - 9 * math.cos(angle + s), tip.y() - 9 * math.sin(angle + s))
                for s in (0.4, -0.4)
            ]
        )
        arrow = QGraphicsPolygonItem(head)
        arrow.setPen(pen)
        arrow.setBrush(QBrush(color))
        self.scene().addItem(arrow)
        return path

    def _label(self, text: str, point: QPointF, color: QColor, base: QColor) -> None:
        if not text.strip(" /"):
            return
        self.edge_labels.extend(text.split(" / "))
        label = QGraphicsSimpleTextItem(text)
        label.setBrush(QBrush(color))
        width = label.boundingRect().width()
        label.setPos(point.x() - width / 2, point.y() - label.boundingRect().height() / 2)
        label.setZValue(3)
        backing = self.scene().addRect(
            label.sceneBoundingRect().adjusted(-2, 0, 2, 0), QPen(Qt.PenStyle.NoPen), QBrush(base)
        )
        backing.setZValue(2)
        self.scene().addItem(label)


class DiagramDialog(QDialog):
    def __init__(self, tree: Tree, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{tree.title} — {tree.id} v{tree.version} (read-only)")
        self.view = TreeDiagram(tree, self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view)
        scene = self.view.sceneRect()
        self.resize(int(min(1200, scene.width() + 40)), int(min(800, scene.height() + 40)))
