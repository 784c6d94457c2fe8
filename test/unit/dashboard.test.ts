/**
 * The shipped Grafana dashboard, checked against Grafana's own schema package (@grafana/schema):
 * its TypeScript types are generated from the CUE schemas Grafana validates dashboards with. The
 * test writes the dashboard (and each panel's options and field config) as object literals
 * typed with those types and has the TypeScript compiler check them, so an unknown key, a
 * misspelt enum value or a wrong type is an error, as it would be in Grafana's own code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const FILE = join(__dirname, '..', '..', 'examples', 'otel-collector', 'grafana', 'dashboard.json');
const PANEL_TYPES = '@grafana/schema/dist/esm/raw/composable';
/** The panel plugins the dashboard uses, with the module of their generated option types. */
const PANELS: Record<string, { module: string; fieldConfig: boolean }> = {
  timeseries: { module: `${PANEL_TYPES}/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen`, fieldConfig: true },
  table: { module: `${PANEL_TYPES}/table/panelcfg/x/TablePanelCfg_types.gen`, fieldConfig: true },
  bargauge: { module: `${PANEL_TYPES}/bargauge/panelcfg/x/BarGaugePanelCfg_types.gen`, fieldConfig: false },
};

interface PanelJson {
  type: string;
  title: string;
  datasource?: unknown;
  options?: unknown;
  fieldConfig?: { defaults?: { custom?: unknown } };
  targets?: { datasource?: unknown; expr?: string }[];
}
interface DashboardJson {
  __inputs?: { name: string; type: string; pluginId: string }[];
  __requires?: unknown[];
  panels: PanelJson[];
  templating: { list: { name: string; type: string; datasource?: unknown }[] };
  [key: string]: unknown;
}

const dashboard = JSON.parse(readFileSync(FILE, 'utf8')) as DashboardJson;

/** TypeScript's diagnostics for a virtual module beside this file (so node_modules resolves). */
function typeErrors(source: string): string[] {
  const fileName = join(__dirname, '__dashboard_check__.ts');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    exactOptionalPropertyTypes: false,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, onError) =>
    name === fileName ? ts.createSourceFile(name, source, version) : read(name, version, onError);
  const program = ts.createProgram([fileName], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .map(
      (d) =>
        `${d.file?.fileName === fileName ? 'dashboard' : (d.file?.fileName ?? '')}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
    );
}

describe('the Grafana dashboard', () => {
  it('is a valid dashboard for @grafana/schema, panel options and field config included', () => {
    // The export-only keys are not part of the dashboard model (Grafana strips them on import).
    const { __inputs, __requires, ...model } = dashboard;
    // Enums become the string values they stand for, as they are written in JSON.
    const lines = [
      `import type { Dashboard } from '@grafana/schema';`,
      'type Json<T> = T extends string ? `${T}` : T extends readonly (infer U)[] ? Json<U>[] : T extends object ? { [K in keyof T]: Json<T[K]> } : T;',
    ];
    for (const [type, { module }] of Object.entries(PANELS)) lines.push(`import type * as P_${type} from '${module}';`);
    lines.push(`export const dashboard: Json<Dashboard> = ${JSON.stringify(model)};`);
    dashboard.panels.forEach((panel, i) => {
      const types = PANELS[panel.type];
      expect(types, `panel "${panel.title}" of type ${panel.type} has no generated types listed here`).toBeDefined();
      lines.push(`export const options${i}: Json<P_${panel.type}.Options> = ${JSON.stringify(panel.options ?? {})};`);
      if (types?.fieldConfig === true && panel.fieldConfig?.defaults?.custom !== undefined)
        lines.push(
          `export const custom${i}: Json<P_${panel.type}.FieldConfig> = ${JSON.stringify(panel.fieldConfig.defaults.custom)};`,
        );
    });
    expect(typeErrors(lines.join('\n'))).toEqual([]);
    expect(__requires).toBeDefined();
  });

  it('takes its Prometheus datasource as an input, with no hard-coded uid', () => {
    expect(dashboard.__inputs).toEqual([
      expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }),
    ]);
    // The same name as a datasource variable, so a provisioned copy (where Grafana does not
    // substitute __inputs) uses the default Prometheus datasource.
    expect(dashboard.templating.list[0]).toMatchObject({
      name: 'DS_PROMETHEUS',
      type: 'datasource',
      query: 'prometheus',
    });
    const refs = [
      ...dashboard.panels.flatMap((p) => [p.datasource, ...(p.targets ?? []).map((t) => t.datasource)]),
      ...dashboard.templating.list.slice(1).map((v) => v.datasource),
    ];
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) expect(ref).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
    expect(JSON.stringify(dashboard)).not.toMatch(/"uid":\s*"prometheus"/);
  });
});
