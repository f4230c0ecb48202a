import type { CheckItem, CheckRun } from './check-run';

/**
 * JUnit XML for CI dashboards: one test case per image (verify) or resource (preview). Blocked by policy
 * is a <failure>, could not verify or an internal error an <error>, an unchecked resource <skipped>; a
 * waived finding is written to the case's <system-out>.
 */
export function renderJunit(run: CheckRun): string {
  const name = `trustops ${run.command}`;
  const count = (o: CheckItem['outcome'][]): number => run.items.filter((i) => o.includes(i.outcome)).length;
  const totals = `tests="${run.items.length}" failures="${count(['failed'])}" errors="${count(['unverified', 'error'])}" skipped="${count(['unchecked'])}"`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xml(name)}" ${totals}>`,
    `  <testsuite name="${xml(name)}" ${totals}>`,
  ];
  for (const item of run.items) {
    lines.push(
      `    <testcase classname="${xml(`trustops.${run.command}`)}" name="${xml(item.kind === 'image' ? item.id : `${item.name} (${item.id})`)}">`,
    );
    const blocking = item.findings.filter((f) => !f.waived && f.level === 'error');
    const text = (fs: typeof item.findings): string => fs.map((f) => `[${f.code}] ${f.message}`).join('\n');
    if (item.outcome === 'failed') {
      lines.push(
        `      <failure type="${xml(blocking.map((f) => f.code).join(' '))}" message="${xml(firstLine(blocking))}">${xml(text(blocking))}</failure>`,
      );
    } else if (item.outcome === 'unverified' || item.outcome === 'error') {
      const fs = item.findings.filter((f) => !f.waived);
      lines.push(
        `      <error type="${xml(fs.map((f) => f.code).join(' '))}" message="${xml(firstLine(fs))}">${xml(text(fs))}</error>`,
      );
    } else if (item.outcome === 'unchecked') {
      lines.push(`      <skipped message="${xml(firstLine(item.findings))}"/>`);
    }
    const other = item.findings.filter((f) => f.waived || f.level !== 'error');
    if (other.length > 0 && item.outcome !== 'unchecked') {
      lines.push(
        `      <system-out>${xml(other.map((f) => `[${f.code}]${f.waived ? ` WAIVED (${f.waived})` : ''} ${f.message}`).join('\n'))}</system-out>`,
      );
    }
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>');
  return `${lines.join('\n')}\n`;
}

function firstLine(fs: { code: string; message: string }[]): string {
  const f = fs[0];
  return f ? `[${f.code}] ${f.message.split('\n')[0]}` : '';
}

/** XML 1.0 text and attribute escaping; characters XML cannot carry at all are replaced. */
function xml(s: string): string {
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\n/g, '&#10;');
}
