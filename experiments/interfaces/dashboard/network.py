"""The workshop view of linkage: the societies as five nodes and the flows between them.

What a trainer points at is not every provider and community (a tangle at workshop scale) but
how the four societies (and the government's money) work together. Five nodes:

- community: the residents' committees and their community workers (居委会/社区工作者),
  block-grant staff included;
- organizations: social organizations, embedded agencies and community organizations, with
  their paid staff;
- social workers: professional social workers, in community posts or employed by agencies;
- volunteers: the street's active volunteers;
- government: the street's budget (money).

Flows, counted over the last `window_weeks` weeks (needs, money) or now (people):

- referral: needs a community could not serve that a referral link moved street-wide, by the
  society that then met them (`F_REFERRED`); escalation: needs a joint meeting moved
  street-wide (`F_ESCALATED`); platform: needs the information platform matched street-wide
  (the rest of the needs a street-wide desk met), by the society that met them;
- co-delivery: professional cases a social worker and a volunteer served together
  (`F_CODELIVERED`);
- team: volunteers on organizations' teams now; supervision: active volunteers supervised by
  social workers now; employment: social workers employed by organizations now; post: social
  workers in community posts now;
- money: the government's spending by channel (procurement, venture grants and incubation to
  organizations, posts to social workers, block grants and the platform to the community, the
  time bank to volunteers), in yuan.

Each node also shows its people now and the needs it met in the window (the society of the
provider that met them: community workers, organizations' staff, social workers, volunteers).
Everything is read from the model's public state: the need table (`flags`, `provider_kind`,
`t_end`), the organizations (teams, staff), the social-worker agents (employer), the residents'
volunteer arrays, and the recorder's weekly spending by channel. Nothing is added to `model/`.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch

from experiments.interfaces.dashboard.i18n import figure_lang, t
from model.agents import WEEK, CommunityWorker, Kind, SocialOrganization, SocialWorker
from model.needs import F_CODELIVERED, F_ESCALATED, F_REFERRED, MET
from model.residents import V_ACTIVE

if TYPE_CHECKING:  # pragma: no cover
    from model import LinkageModel

SOCIETIES = ("community", "organizations", "social_workers", "volunteers", "government")
"""The nodes, in drawing order."""

SERVED_BY = {
    int(Kind.COMMUNITY_WORKER): "community",
    int(Kind.STAFF): "organizations",
    int(Kind.SOCIAL_WORKER): "social_workers",
    int(Kind.VOLUNTEER): "volunteers",
}
"""Provider kind (stored with each need met) -> the society it belongs to."""

FLOW_KINDS = (
    "referral",
    "escalation",
    "platform",
    "codelivery",
    "team",
    "supervision",
    "employment",
    "post",
    "money",
)
"""Kinds of flow, in drawing order."""

LINK_KINDS = ("referral", "escalation", "platform", "codelivery", "team", "supervision")
"""Flows that are linkage between the societies (money, employment and posts are not)."""

MONEY_TO = {
    "procurement": "organizations",
    "venture": "organizations",
    "incubation": "organizations",
    "posts": "social_workers",
    "block_grant": "community",
    "platform": "community",
    "timebank": "volunteers",
}
"""Spending channel -> the society the money goes to (evaluation pays outside evaluators)."""

POS = {
    "government": (0.0, 1.0),
    "community": (-1.05, 0.15),
    "organizations": (1.05, 0.15),
    "social_workers": (-0.62, -0.95),
    "volunteers": (0.62, -0.95),
}
"""Node positions: the government above, the four societies around."""

COLORS = {
    "community": "#4a78c2",
    "organizations": "#3a9a5b",
    "social_workers": "#d9534f",
    "volunteers": "#f0a040",
    "government": "#8c6d1f",
}
FLOW_COLORS = {
    "referral": "#1f77b4",
    "escalation": "#9467bd",
    "platform": "#17becf",
    "codelivery": "#e6550d",
    "team": "#2ca02c",
    "supervision": "#c080e0",
    "employment": "#7f7f7f",
    "post": "#b0b0b0",
    "money": "#c9a227",
}


@dataclass(frozen=True)
class Flow:
    """One flow between two societies.

    Attributes:
        source, target: Societies (`SOCIETIES`).
        kind: One of `FLOW_KINDS`.
        count: Needs (referral, escalation, platform, co-delivery), people (team,
            supervision, employment, post) or yuan (money).
    """

    source: str
    target: str
    kind: str
    count: float


@dataclass
class SocietyFlows:
    """The societies of a running model and the flows between them.

    Attributes:
        week: The model's week.
        window: Weeks the counts of needs and money cover.
        people: Society -> people now (community workers, open organizations, social workers,
            active volunteers; the government's yearly budget in yuan).
        served: Society -> needs it met in the window.
        flows: The non-zero flows.
    """

    week: int
    window: int
    people: dict[str, float] = field(default_factory=dict)
    served: dict[str, int] = field(default_factory=dict)
    flows: list[Flow] = field(default_factory=list)

    def totals(self) -> dict[str, float]:
        """Flows summed by kind (every kind, zero when absent)."""
        out = dict.fromkeys(FLOW_KINDS, 0.0)
        for f in self.flows:
            out[f.kind] += f.count
        return out


def society_flows(model: LinkageModel, window_weeks: int = 4) -> SocietyFlows:
    """Count the flows between the societies of `model` (see the module docstring).

    Args:
        model: A running model.
        window_weeks: Weeks of needs and money to count.

    Returns:
        The societies and their flows.
    """
    week = model.week
    window = max(1, int(window_weeks))
    out = SocietyFlows(week=week, window=window)
    # people now
    res = model.residents
    orgs = [o for o in model.organizations if not o.closed]
    sws = [s for s in model.agents_by_type.get(SocialWorker, ()) if s.on_roster]
    cws = [c for c in model.agents_by_type.get(CommunityWorker, ()) if c.on_roster]
    out.people = {
        "community": float(len(cws)),
        "organizations": float(len(orgs)),
        "social_workers": float(len(sws)),
        "volunteers": float(np.count_nonzero(res.vol_state == V_ACTIVE)),
        "government": float(model.p.funding.special_fund + model.p.funding.lottery_fund),
    }
    # needs met in the window, by the society that met them
    nt = model.needs
    t0 = max(0, week - window) * WEEK
    met = np.flatnonzero((nt.view("status") == MET) & (nt.view("t_end") >= t0))
    kinds = nt.provider_kind[met].astype(np.int64)
    flags = nt.flags[met]
    out.served = {s: 0 for s in SOCIETIES if s != "government"}
    for k, n in zip(*np.unique(kinds, return_counts=True), strict=True):
        if int(k) in SERVED_BY:
            out.served[SERVED_BY[int(k)]] += int(n)
    flows: dict[tuple[str, str, str], float] = {}

    def add(a: str, b: str, kind: str, n: float) -> None:
        if n > 0:
            flows[(a, b, kind)] = flows.get((a, b, kind), 0.0) + float(n)

    referred = (flags & F_REFERRED).astype(bool)
    escalated = (flags & F_ESCALATED).astype(bool) & ~referred
    street = model.desk.street_scope  # the platform: every need is matched street-wide
    plain = ~referred & ~escalated
    for mask, kind in ((referred, "referral"), (escalated, "escalation"), (plain, "platform")):
        if kind == "platform" and not street:
            continue
        for k, n in zip(*np.unique(kinds[mask], return_counts=True), strict=True):
            target = SERVED_BY.get(int(k))
            if target is not None and target != "community":
                add("community", target, kind, n)
    add("social_workers", "volunteers", "codelivery", int(np.count_nonzero(flags & F_CODELIVERED)))
    # people now
    add("volunteers", "organizations", "team", sum(1 for o in orgs for v in o.team if v.on_roster))
    sup = np.count_nonzero(res.supervised & (res.vol_state == V_ACTIVE))
    add("social_workers", "volunteers", "supervision", int(sup))
    employed = sum(1 for s in sws if isinstance(s.employer, SocialOrganization))
    add("organizations", "social_workers", "employment", employed)
    add("community", "social_workers", "post", len(sws) - employed)
    # money in the window
    data = model.recorder.data
    lo, hi = max(0, min(week, model.p.run.weeks) - window), min(week, model.p.run.weeks)
    for channel, target in MONEY_TO.items():
        col = data.get(f"spending_{channel}")
        if col is not None:
            add("government", target, "money", float(col[lo:hi].sum()))
    out.flows = [Flow(a, b, k, n) for (a, b, k), n in flows.items()]
    return out


def _count(kind: str, n: float, lang: str) -> str:
    if kind == "money":
        return f"{n / 1e4:,.1f}万" if lang == "zh" else f"{n / 1e3:,.0f}k"
    return f"{n:,.0f}"


def draw_flows(fl: SocietyFlows, lang: str, fig: Figure | None = None) -> Figure:
    """Draw the societies and their flows: arrows as wide as the square root of their count
    (relative to the largest of their kind), each labelled with its count.

    Args:
        fl: From `society_flows`.
        lang: Label language ('zh' or 'en').
        fig: A figure to draw on (a new one when None).
    """
    lang = figure_lang(lang)
    fig = fig or Figure(figsize=(9.6, 6.6), dpi=90)
    ax = fig.add_axes((0.0, 0.0, 0.72, 0.93))
    ax.set_xlim(-1.75, 1.75)
    ax.set_ylim(-1.45, 1.45)
    ax.set_aspect("equal")
    ax.axis("off")
    largest: dict[str, float] = {}
    for f in fl.flows:
        largest[f.kind] = max(largest.get(f.kind, 0.0), f.count)
    pairs: dict[frozenset, int] = {}
    radius = 0.24
    for f in sorted(fl.flows, key=lambda f: FLOW_KINDS.index(f.kind)):
        key = frozenset((f.source, f.target))
        k = pairs.get(key, 0)
        pairs[key] = k + 1
        rad = (0.12 + 0.16 * k) * (1 if k % 2 == 0 else -1) * (1 + k // 2)
        a, b = np.array(POS[f.source]), np.array(POS[f.target])
        width = 1.0 + 7.0 * math.sqrt(f.count / max(largest[f.kind], 1e-9))
        arrow = FancyArrowPatch(
            tuple(a),
            tuple(b),
            connectionstyle=f"arc3,rad={rad}",
            arrowstyle="-|>",
            mutation_scale=12 + width,
            lw=width,
            color=FLOW_COLORS[f.kind],
            alpha=0.8,
            shrinkA=radius * 145,
            shrinkB=radius * 145,
            zorder=1,
        )
        ax.add_patch(arrow)
        # the label at the middle of the arc
        mid = (a + b) / 2
        d = b - a
        normal = np.array([d[1], -d[0]])
        at = mid + rad * normal * 0.5
        ax.annotate(
            f"{t('flow_' + f.kind, lang)} {_count(f.kind, f.count, lang)}",
            at,
            ha="center",
            va="center",
            fontsize=7.5,
            color="#222222",
            bbox={
                "boxstyle": "round,pad=0.15",
                "fc": "white",
                "ec": FLOW_COLORS[f.kind],
                "lw": 0.8,
            },
            zorder=3,
        )
    for s in SOCIETIES:
        x, y = POS[s]
        ax.add_patch(Circle((x, y), radius, color=COLORS[s], zorder=2))
        ax.annotate(
            t("society_" + s, lang), (x, y), ha="center", va="center", fontsize=9,
            color="white", zorder=4,
        )  # fmt: skip
        n = _count("money", fl.people[s], lang) if s == "government" else f"{fl.people[s]:,.0f}"
        sub = t("who_" + s, lang, n=n)
        if s != "government":
            sub += "\n" + t("met_needs", lang, met=f"{fl.served.get(s, 0):,}")
        ax.annotate(
            sub, (x, y - radius - 0.03), ha="center", va="top", fontsize=7.5, color="#333333",
            zorder=4,
        )  # fmt: skip
    fig.suptitle(t("flows_title", lang, n=fl.window, week=fl.week), fontsize=11, x=0.36)
    totals = fl.totals()
    side = fig.add_axes((0.72, 0.05, 0.27, 0.86))
    side.axis("off")
    y = 1.0
    side.text(0.0, y, t("flows_legend", lang), fontsize=9, va="top", transform=side.transAxes)
    for kind in FLOW_KINDS:
        y -= 0.062
        side.text(
            0.0, y, f"■ {t('flow_' + kind, lang)}: {_count(kind, totals[kind], lang)}",
            color=FLOW_COLORS[kind], fontsize=8.5, va="top", transform=side.transAxes,
        )  # fmt: skip
    width = 17 if lang == "zh" else 38
    note = "\n".join(textwrap.wrap(t("flows_units", lang), width))
    side.text(
        0.0, y - 0.08, note, fontsize=7.5, color="#555555", va="top", transform=side.transAxes
    )
    return fig
