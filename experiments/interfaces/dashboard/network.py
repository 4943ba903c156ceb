"""The linkage view: the four societies of a running model as a network.

Nodes are communities (社区), organizations (embedded agencies and community organizations),
social workers, one volunteer team per community, and a street hub (the information platform
and the joint meeting). Edges say how they are linked now or in the last few weeks:

- contract: an organization's purchased project in a community (`SocialOrganization.contracts`);
- employment: a social worker's employer, or the community of a purchased post;
- team: volunteers of a community in an organization's team (`SocialOrganization.team`);
- supervision: supervised volunteers of a community and the social workers working there;
- platform: needs of a community matched street-wide through the information platform;
- referral / escalation: needs of a community referred on (F_REFERRED) or escalated by a joint
  meeting (F_ESCALATED), to the street hub, since both move needs to the street-wide queue;
- codelivery: professional cases co-delivered by a social worker and a volunteer (F_CODELIVERED),
  between the community's volunteer team and its social workers.

Everything comes from public model state. The need table does not record which provider served
a need, so referral and co-delivery edges are drawn per community (see `docs` in the report).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from experiments.interfaces.dashboard.i18n import figure_lang, t
from model.agents import WEEK, SocialOrganization, SocialWorker
from model.needs import F_CODELIVERED, F_ESCALATED, F_REFERRED
from model.residents import V_ACTIVE

if TYPE_CHECKING:  # pragma: no cover
    from model import LinkageModel

HUB = ("hub", 0)
"""Node id of the street hub (platform and joint meeting)."""

EDGE_KINDS = (
    "platform",
    "contract",
    "employment",
    "team",
    "supervision",
    "referral",
    "escalation",
    "codelivery",
)
"""Edge kinds, in drawing order (bottom first)."""

LINK_KINDS = ("platform", "contract", "referral", "codelivery", "escalation", "team", "supervision")
"""Edge kinds that count as linkage between the societies (employment is not)."""

EDGE_STYLE = {
    "platform": {"edge_color": "#9ecae1", "style": "solid", "max_width": 3.0},
    "employment": {"edge_color": "#b0b0b0", "style": "solid", "max_width": 0.8},
    "team": {"edge_color": "#f0a040", "style": "dashed", "max_width": 2.0},
    "supervision": {"edge_color": "#c080e0", "style": "dotted", "max_width": 2.0},
    "contract": {"edge_color": "#2e8b57", "style": "solid", "max_width": 3.0},
    "referral": {"edge_color": "#1f77b4", "style": "solid", "max_width": 4.0},
    "escalation": {"edge_color": "#d62728", "style": "solid", "max_width": 4.0},
    "codelivery": {"edge_color": "#e6550d", "style": "solid", "max_width": 4.0},
}
"""Colour, line style and widest line of each edge kind (width grows with the square root of
the weight, relative to the heaviest edge of its kind)."""

NODE_STYLE = {
    "community": {"node_color": "#4a78c2", "node_shape": "s", "size": 520},
    "embedded": {"node_color": "#7b4fa0", "node_shape": "D", "size": 260},
    "endogenous": {"node_color": "#3a9a5b", "node_shape": "h", "size": 200},
    "sw": {"node_color": "#d9534f", "node_shape": "o", "size": 90},
    "volunteers": {"node_color": "#f0a040", "node_shape": "^", "size": 120},
    "hub": {"node_color": "#f2c200", "node_shape": "*", "size": 700},
}


def _recent(model: LinkageModel, window_weeks: int) -> np.ndarray:
    """Ids of needs raised or resolved in the last `window_weeks` weeks."""
    nt = model.needs
    t0 = max(0, model.week - window_weeks) * WEEK
    raised = nt.view("t_raise") >= t0
    ended = nt.view("t_end") >= t0
    return np.flatnonzero(raised | ended)


def _flag_counts(model: LinkageModel, ids: np.ndarray, flag: int) -> dict[int, int]:
    """Needs among `ids` carrying `flag`, by community."""
    nt = model.needs
    sel = ids[(nt.flags[ids] & flag).astype(bool)]
    counts = np.bincount(
        nt.community[sel].astype(np.int64), minlength=len(model.population.communities)
    )
    return {c: int(k) for c, k in enumerate(counts) if k}


def linkage_graph(model: LinkageModel, window_weeks: int = 4) -> nx.MultiGraph:
    """The four societies of `model` and their links (see the module docstring).

    Args:
        model: A running model.
        window_weeks: Weeks of referrals, escalations and co-delivered cases to show.

    Returns:
        A multigraph; nodes carry `kind`, `community` and `size`; edges are keyed by kind and
        carry `weight` (cases, volunteers or contract value in yuan).
    """
    g = nx.MultiGraph()
    week = model.week
    active_vol = np.bincount(
        model.residents.community[model.residents.vol_state == V_ACTIVE].astype(np.int64),
        minlength=len(model.population.communities),
    )
    for com in model.population.communities:
        g.add_node(("c", com.index), kind="community", community=com.index, size=com.n_residents)
        g.add_node(
            ("v", com.index),
            kind="volunteers",
            community=com.index,
            size=int(active_vol[com.index]),
        )
    for org in model.organizations:
        g.add_node(
            ("o", org.unique_id), kind=org.org_kind, community=org.community, size=len(org.staff)
        )
        for con in org.contracts:
            if con.end_week > week:
                _add(g, ("o", org.unique_id), ("c", con.community), "contract", con.value)
        team = Counter(v.community for v in org.team if v.on_roster)
        for c, k in team.items():
            _add(g, ("o", org.unique_id), ("v", c), "team", k)
    sw_by_c: dict[int, list] = defaultdict(list)
    for s in model.agents_by_type.get(SocialWorker, ()):
        if not s.on_roster:
            continue
        node = ("s", s.unique_id)
        g.add_node(node, kind="sw", community=s.community, size=1)
        sw_by_c[s.community].append(node)
        emp = s.employer
        if isinstance(emp, SocialOrganization) and not emp.closed:
            _add(g, node, ("o", emp.unique_id), "employment", 1)
        else:
            _add(g, node, ("c", s.community), "employment", 1)
    res = model.residents
    sup = np.bincount(
        res.community[res.supervised & (res.vol_state == V_ACTIVE)].astype(np.int64),
        minlength=len(model.population.communities),
    )
    for c, k in enumerate(sup):
        for node in sw_by_c.get(c, ()):
            if k:
                _add(g, node, ("v", c), "supervision", k / len(sw_by_c[c]))
    ids = _recent(model, window_weeks)
    if model.desk.street_scope:  # with the platform, every visible need is matched street-wide
        posted = ids[np.isfinite(model.needs.t_post[ids])]
        for c, k in enumerate(
            np.bincount(
                model.needs.community[posted].astype(np.int64),
                minlength=len(model.population.communities),
            )
        ):
            if k:
                _add(g, ("c", c), HUB, "platform", int(k))
    for kind, flag in (("referral", F_REFERRED), ("escalation", F_ESCALATED)):
        for c, k in _flag_counts(model, ids, flag).items():
            _add(g, ("c", c), HUB, kind, k)
    for c, k in _flag_counts(model, ids, F_CODELIVERED).items():
        sws = sw_by_c.get(c) or [HUB]
        for node in sws:
            _add(g, ("v", c), node, "codelivery", k / len(sws))
    hub_on = model.desk.street_scope or any(p.name == "joint_meeting" for p in model.policies)
    if hub_on or g.has_node(HUB):
        g.add_node(HUB, kind="hub", community=-1, size=1)
    return g


def _add(g: nx.MultiGraph, a, b, kind: str, weight: float) -> None:
    if g.has_edge(a, b, key=kind):
        g.edges[a, b, kind]["weight"] += weight
    else:
        g.add_edge(a, b, key=kind, kind=kind, weight=float(weight))


def link_counts(g: nx.MultiGraph) -> dict[str, float]:
    """Totals per edge kind: projects (contract edges) and employment ties; volunteers for team
    and supervision; needs for platform, referral, escalation and co-delivery."""
    out = dict.fromkeys(EDGE_KINDS, 0.0)
    for _, _, kind, w in g.edges(keys=True, data="weight"):
        out[kind] += 1.0 if kind in ("contract", "employment") else w
    return out


def layout(g: nx.MultiGraph) -> dict:
    """Stable positions: communities on a circle (networkx's circular layout), the hub in the
    centre, embedded agencies on an inner ring, everything else around its community."""
    coms = sorted(n for n in g if g.nodes[n]["kind"] == "community")
    pos = {n: np.asarray(p) for n, p in nx.circular_layout(coms, scale=1.0).items()}
    if g.has_node(HUB):
        pos[HUB] = np.zeros(2)
    emb = sorted(n for n in g if g.nodes[n]["kind"] == "embedded")
    for i, n in enumerate(emb):
        a = 2 * math.pi * (i + 0.5) / max(1, len(emb))
        pos[n] = 0.42 * np.array([math.cos(a), math.sin(a)])
    around: dict[int, list] = defaultdict(list)
    for n in sorted(g, key=str):
        if n not in pos:
            around[g.nodes[n]["community"]].append(n)
    for c, nodes in around.items():
        centre = pos.get(("c", c), np.zeros(2))
        base = math.atan2(centre[1], centre[0])
        k = len(nodes)
        for i, n in enumerate(nodes):
            a = base + (i - (k - 1) / 2) * min(0.55, 2.6 / max(1, k))
            pos[n] = centre + 0.3 * np.array([math.cos(a), math.sin(a)])
    return pos


def draw_linkage(
    g: nx.MultiGraph, lang: str, window_weeks: int, fig: Figure | None = None
) -> Figure:
    """Draw the linkage graph with matplotlib (nodes by kind, edges by kind, a legend).

    Args:
        g: From `linkage_graph`.
        lang: Label language ('zh' or 'en').
        window_weeks: The window the graph covers (for the title).
        fig: A figure to draw on (a new one when None).
    """
    lang = figure_lang(lang)
    fig = fig or Figure(figsize=(8.5, 6.2), dpi=90)
    ax = fig.add_subplot(111)
    pos = layout(g)
    by_kind: dict[str, list] = defaultdict(list)
    for a, b, kind, w in g.edges(keys=True, data="weight"):
        by_kind[kind].append((a, b, w))
    for kind in EDGE_KINDS:
        edges = by_kind.get(kind)
        if not edges:
            continue
        st = EDGE_STYLE[kind]
        ws = np.array([w for _, _, w in edges], dtype=float)
        width = 0.6 + (st["max_width"] - 0.6) * np.sqrt(ws / max(ws.max(), 1e-9))
        nx.draw_networkx_edges(
            g,
            pos,
            edgelist=[(a, b) for a, b, _ in edges],
            ax=ax,
            edge_color=st["edge_color"],
            style=st["style"],
            width=width,
            alpha=0.8,
        )
    for kind, st in NODE_STYLE.items():
        nodes = [n for n in g if g.nodes[n]["kind"] == kind]
        if not nodes:
            continue
        if kind == "volunteers":
            sizes = [40 + 12 * math.sqrt(g.nodes[n]["size"]) for n in nodes]
        else:
            sizes = st["size"]
        nx.draw_networkx_nodes(
            g,
            pos,
            nodelist=nodes,
            ax=ax,
            node_color=st["node_color"],
            node_shape=st["node_shape"],
            node_size=sizes,
            edgecolors="white",
            linewidths=0.8,
        )
    labels = {
        n: f"{t('node_community', lang)} {n[1] + 1}" if lang == "zh" else f"C{n[1] + 1}"
        for n in g
        if g.nodes[n]["kind"] == "community"
    }
    label_pos = {n: pos[n] * 0.8 for n in labels}  # inside the ring; satellites sit outside
    nx.draw_networkx_labels(g, label_pos, labels=labels, ax=ax, font_size=9, font_color="#1a1a1a")
    handles = [
        Line2D(
            [],
            [],
            marker=st["node_shape"],
            color="w",
            markerfacecolor=st["node_color"],
            markersize=9,
            label=t(f"node_{kind}", lang),
        )
        for kind, st in NODE_STYLE.items()
    ]
    counts = link_counts(g)
    handles += [
        Line2D(
            [],
            [],
            color=EDGE_STYLE[k]["edge_color"],
            linestyle=EDGE_STYLE[k]["style"],
            lw=2.2,
            label=f"{t('edge_' + k, lang)} ({counts[k]:,.0f})",
        )
        for k in EDGE_KINDS
    ]
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False
    )
    ax.set_title(t("network_title", lang, n=window_weeks), fontsize=11)
    ax.set_xlim(-1.45, 1.45)
    ax.set_ylim(-1.45, 1.45)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.subplots_adjust(left=0.01, right=0.66, top=0.93, bottom=0.01)
    return fig
