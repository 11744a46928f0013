"""When a run counts as collapsed, and the AEGAN paper's claim on the 2-D mixtures, by the rules
the reports state before their runs (docs/mode-collapse.md, docs/pacgan-protocol.md)."""


def verdict(row, reference):
    """Collapsed: fewer than 90% of the modes covered (2-D, and the 1,000 of stacked digits among
    26,000 samples); for other images, samples whose mean
    pairwise distance is under 80% of held-out real images', or more than 10% near-duplicates
    (ten times the 1% that real images show by the threshold's construction)."""
    if "modes" in row:
        return row["modes"] < 0.9 * row["of"]
    return row["diversity"] < 0.8 * reference["diversity"] or row["near_duplicates"] > 0.10


# The AEGAN paper's claim on the 2-D mixtures, by the rule stated before the runs:
# each run is read as the mean of its last five checkpoints, as the figures move by several
# points from one checkpoint to the next.
LATE_CHECKPOINTS = 5


def late_checkpoints(rows):
    """{(model, seed): that run's last LATE_CHECKPOINTS checkpoint rows, in step order}."""
    runs = {}
    for r in sorted(rows, key=lambda r: r["step"]):
        runs.setdefault((r["model"], r["seed"]), []).append(r)
    return {run: mine[-LATE_CHECKPOINTS:] for run, mine in runs.items()}


def paper_claim(points, gan, aegan):
    """("supported" | "contradicted" | "undecided", why) from the GAN's and AEGAN's late checkpoint
    rows on ring8 or grid25: one seed's, or every seed's pooled. Supported: AEGAN covers more modes
    (ring8: all 8 in at least four fifths of its checkpoints, and more on average than the GAN;
    grid25: at least 2 more on average) with at least half the GAN's high-quality share.
    Contradicted: fewer modes, or as many with under half the share. Otherwise undecided: more
    modes with few sharp samples is blur, not the absence of collapse."""
    import numpy as np

    modes = [float(np.mean([r["modes"] for r in rows])) for rows in (gan, aegan)]
    sharp = [float(np.mean([r["high_quality"] for r in rows])) for rows in (gan, aegan)]
    why = f"modes {modes[1]:.1f} against the GAN's {modes[0]:.1f}, high quality {sharp[1]:.1%} against {sharp[0]:.1%}"
    if points == "ring8":
        full = float(np.mean([r["modes"] == r["of"] for r in aegan]))
        more = modes[1] > modes[0] and full >= 0.8
        why += f", all 8 in {full:.0%} of AEGAN's checkpoints"
    else:
        more = modes[1] >= modes[0] + 2
    half = sharp[1] >= 0.5 * sharp[0]
    if more and half:
        return "supported", why
    if modes[1] < modes[0] or (modes[1] == modes[0] and not half):
        return "contradicted", why
    return "undecided", why
