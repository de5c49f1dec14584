// The chart of bench/run.mjs, written by hand (no plotting dependency): one bar per
// target, its length the measured value as a share of the target (the dashed line is the
// target; green met, red not met), then the sweep's ingest rates against the disk's.
const esc = (s) =>
  String(s).replace(
    /[&<>"]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c],
  );

export function renderSvg(summary, res, host) {
  const W = 900;
  const LABEL = 330;
  const BAR = W - LABEL - 140;
  const rows = summary.rows.filter((r) => r.ratio !== undefined && r.target !== undefined);
  // Scenario 8 has no target: its bars are Sluice ÷ the endpoint's raw rate.
  const remote = summary.rows.filter((r) => r.id === 8);
  // Scenario 10 has none either: ingest and read rates ÷ plain's, per secured configuration.
  const security = summary.rows
    .filter((r) => r.id === 10 && r.ratio !== undefined)
    .flatMap((r) => [
      { label: `${r.label}: ingest`, ratio: r.ratio },
      { label: `${r.label}: read`, ratio: r.readRatio },
    ]);
  const sweep = res.sweep;
  const H =
    60 +
    rows.length * 34 +
    (remote.length ? 50 + remote.length * 26 : 0) +
    (security.length ? 50 + security.length * 26 : 0) +
    (sweep.length ? 50 + sweep.length * 26 : 0) +
    30;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">Sluice bench — bench/README.md targets (measured ÷ target, same-run baselines)</text>`,
  ];
  // Every bar shows "how far toward the target": for latency, target ÷ measured.
  const score = (r) =>
    r.id === 6 || r.id === 9
      ? 1 / r.ratio
      : r.id === 5
        ? r.ratio / 3
        : r.id === 3
          ? r.ratio / 0.7
          : r.id === 4
            ? r.ratio / 0.8
            : r.ratio / 0.85;
  const scale = BAR / 1.5;
  let y = 50;
  out.push(
    `<line x1="${LABEL + scale}" y1="${y - 8}" x2="${LABEL + scale}" y2="${y + rows.length * 34}" stroke="#333" stroke-dasharray="4 3"/>`,
  );
  out.push(`<text x="${LABEL + scale - 20}" y="${y - 12}">target</text>`);
  for (const r of rows) {
    const w = Math.max(1, Math.min(1.5, score(r)) * scale);
    out.push(`<text x="10" y="${y + 15}">${esc(`${r.id}. ${r.what}`.slice(0, 52))}</text>`);
    out.push(
      `<rect x="${LABEL}" y="${y}" width="${w.toFixed(1)}" height="22" fill="${r.met ? '#3a3' : '#c33'}"/>`,
    );
    out.push(
      `<text x="${LABEL + w + 6}" y="${y + 15}">${esc(`${r.ratioText} (${r.target})`)}</text>`,
    );
    y += 34;
  }
  if (remote.length) {
    y += 20;
    out.push(
      `<text x="10" y="${y}" font-weight="bold">Scenario 8: Sluice ÷ the remote endpoint's raw rate</text>`,
    );
    y += 14;
    for (const r of remote) {
      out.push(`<text x="10" y="${y + 14}">${esc((r.label ?? r.what).slice(0, 52))}</text>`);
      if (r.ratio !== undefined) {
        const w = Math.max(1, Math.min(1.2, r.ratio) * (BAR / 1.2));
        out.push(`<rect x="${LABEL}" y="${y}" width="${w.toFixed(1)}" height="20" fill="#48c"/>`);
        out.push(`<text x="${LABEL + w + 6}" y="${y + 14}">${esc(r.ratioText)}</text>`);
      } else out.push(`<text x="${LABEL}" y="${y + 14}">${esc(r.measured.slice(0, 80))}</text>`);
      y += 26;
    }
  }
  if (security.length) {
    y += 20;
    out.push(
      `<text x="10" y="${y}" font-weight="bold">Scenario 10: rate with authentication (and TLS) ÷ plain, same run</text>`,
    );
    y += 14;
    for (const b of security) {
      const w = Math.max(1, Math.min(1.2, b.ratio || 0) * (BAR / 1.2));
      out.push(`<text x="10" y="${y + 14}">${esc(b.label.slice(0, 52))}</text>`);
      out.push(`<rect x="${LABEL}" y="${y}" width="${w.toFixed(1)}" height="20" fill="#48c"/>`);
      out.push(
        `<text x="${LABEL + w + 6}" y="${y + 14}">${Number.isFinite(b.ratio) ? `${(b.ratio * 100).toFixed(0)}%` : '-'}</text>`,
      );
      y += 26;
    }
  }
  if (sweep.length) {
    y += 20;
    out.push(
      `<text x="10" y="${y}" font-weight="bold">Scenario 7: ingest ÷ disk O_DIRECT write</text>`,
    );
    y += 14;
    for (const p of sweep) {
      const w = Math.max(1, Math.min(1.2, p.ratio) * (BAR / 1.2));
      out.push(
        `<text x="10" y="${y + 14}">${esc(`${p.pushBytes >> 10} KiB pushes, ${p.partitions} partitions`)}</text>`,
      );
      out.push(`<rect x="${LABEL}" y="${y}" width="${w.toFixed(1)}" height="20" fill="#48c"/>`);
      out.push(
        `<text x="${LABEL + w + 6}" y="${y + 14}">${(p.ratio * 100).toFixed(0)}% (${(p.gbps * 1000).toFixed(0)} MB/s)</text>`,
      );
      y += 26;
    }
  }
  out.push(
    `<text x="10" y="${H - 10}" fill="#666">${esc(`${host.cpus} CPU ${host.cpuModel ?? ''}, Node ${host.node}, ${new Date().toISOString()}`)}</text>`,
  );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
