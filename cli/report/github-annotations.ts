import { artifactUri, type CheckRun } from './check-run';

/**
 * GitHub Actions workflow commands (`::error file=...,title=...::message`), one per finding, so a run
 * shows each block in the job summary and on the checked file. Written when GITHUB_ACTIONS=true.
 */
export function githubAnnotations(run: CheckRun): string {
  const file = artifactUri(run.artifact);
  const lines: string[] = [];
  for (const item of run.items) {
    for (const f of item.findings) {
      const command = f.waived
        ? 'notice'
        : f.level === 'error'
          ? 'error'
          : f.level === 'warning'
            ? 'warning'
            : 'notice';
      const title = `trustops ${run.command}: ${f.code}${f.waived ? ' (WAIVED)' : ''}`;
      const message = `${item.kind === 'image' ? item.id : `${item.name} (${item.id})`}: ${f.message}${f.waived ? ` - WAIVED (${f.waived})` : ''}`;
      lines.push(`::${command} file=${property(file)},title=${property(title)}::${data(message)}`);
    }
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

export function inGitHubActions(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['GITHUB_ACTIONS'] === 'true';
}

/** Escaping of workflow-command data (the runner's own rules). */
function data(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function property(s: string): string {
  return data(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
