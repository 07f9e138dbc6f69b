// Statistics, markdown tables and a dependency-free SVG bar chart for the results.
import os from 'node:os';
import { execFileSync } from 'node:child_process';

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** Spread of interleaved runs: (max − min) / median, as a percentage. */
export function spread(values) {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length < 2) return NaN;
  return ((Math.max(...v) - Math.min(...v)) / median(v)) * 100;
}

export function fmt(x, digits = 2) {
  if (!Number.isFinite(x)) return '–';
  if (Math.abs(x) >= 100) return Math.round(x).toLocaleString('en-US');
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(digits);
}

export function fmtSize(bytes) {
  if (bytes >= 1 << 20) return `${bytes / (1 << 20)} MiB`;
  if (bytes >= 1024) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

export function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function machine() {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  let load = os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' / ');
  const versions = { node: process.versions.node };
  for (const [name, bin] of [
    ['bun', 'node_modules/.bin/bun'],
    ['deno', 'node_modules/.bin/deno'],
  ]) {
    try {
      versions[name] = execFileSync(bin, ['--version'], { encoding: 'utf8', cwd: process.env.WS_ROOT ?? process.cwd() })
        .split('\n')[0]
        .replace(/^\D+/, '')
        .split(' ')[0];
    } catch {
      // not installed
    }
  }
  return { cpu, cores: os.cpus().length, load, versions, date: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Horizontal grouped bars: `groups` = [{ title, bars: [{ label, value, note?, highlight? }] }].
 * Values are drawn on one linear axis from 0 to `max` (default: the largest value).
 */
export function barChart({ title, subtitle, unit, groups, max, reference }) {
  const W = 900;
  const labelW = 250;
  const valueW = 90;
  const barW = W - labelW - valueW - 30;
  const rowH = 18;
  const top = subtitle ? 62 : 44;
  let y = top;
  const all = groups.flatMap((g) => g.bars.map((b) => b.value)).filter(Number.isFinite);
  const scaleMax = max ?? Math.max(...all, reference ?? 0) * 1.05;
  const parts = [];
  const colors = { ours: '#2b7bb9', peer: '#9aa5b1', limit: '#c9a227' };
  for (const group of groups) {
    parts.push(`<text x="10" y="${y + 13}" class="g">${esc(group.title)}</text>`);
    y += 20;
    for (const bar of group.bars) {
      const w = Number.isFinite(bar.value) ? Math.max(1, (bar.value / scaleMax) * barW) : 0;
      const color = colors[bar.kind ?? 'peer'];
      parts.push(`<text x="${labelW - 6}" y="${y + 13}" class="l" text-anchor="end">${esc(bar.label)}</text>`);
      parts.push(`<rect x="${labelW}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowH - 5}" fill="${color}"/>`);
      parts.push(
        `<text x="${labelW + w + 5}" y="${y + 13}" class="v">${esc(Number.isFinite(bar.value) ? fmt(bar.value) : 'n/a')}${bar.note ? ` ${esc(bar.note)}` : ''}</text>`,
      );
      y += rowH;
    }
    y += 8;
  }
  if (reference !== undefined) {
    const x = labelW + (reference / scaleMax) * barW;
    parts.push(
      `<line x1="${x.toFixed(1)}" y1="${top - 4}" x2="${x.toFixed(1)}" y2="${y - 4}" stroke="#444" stroke-dasharray="3,3"/>`,
    );
  }
  const H = y + 24;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif">
<style>.t{font-size:16px;font-weight:600}.s{font-size:12px;fill:#555}.g{font-size:13px;font-weight:600}.l{font-size:12px}.v{font-size:11px;fill:#333}.f{font-size:11px;fill:#555}</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="22" class="t">${esc(title)}</text>
${subtitle ? `<text x="10" y="42" class="s">${esc(subtitle)}</text>` : ''}
${parts.join('\n')}
<text x="10" y="${H - 8}" class="f">${esc(unit)} · blue: @ws · grey: peers · gold: physical limits</text>
</svg>
`;
}
