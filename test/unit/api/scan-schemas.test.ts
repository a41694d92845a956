import { describe, expect, it } from 'vitest';
import {
  CreateScanRequestSchema,
  CreateScheduleRequestSchema,
  LIMITS,
  ListScansQuerySchema,
  ScanIdParamsSchema,
  scheduleExpressionProblem,
  toCreateScanInput,
  urlProblem,
} from '#shared/api/scan-schemas';
import { toIssues, type Issue } from '#shared/http/errors';
import { createSelfSignedCertificate } from '#shared/simulator/tls';

const PASSWORD = 'Pa55-distinctive-zebra-91';

function basicBody(overrides: Record<string, unknown> = {}, config: Record<string, unknown> = {}) {
  return {
    sensorName: 'prod command',
    sensorType: 'Keyfactor Command',
    sensorConfig: {
      url: 'https://command.example.com/KeyfactorAPI',
      username: 'CORP\\scanner',
      password: PASSWORD,
      ...config,
    },
    ...overrides,
  };
}

const OAUTH = {
  url: 'https://command.example.com/KeyfactorAPI',
  token_url: 'https://login.example.com/tenant/oauth2/v2.0/token',
  client_id: 'client-123',
  client_secret: 'oauth-secret-value',
  scope: 'api://command/.default',
};

function oauthBody(config: Record<string, unknown> = {}, drop: string[] = []) {
  const sensorConfig: Record<string, unknown> = { ...OAUTH, ...config };
  for (const key of drop) delete sensorConfig[key];
  return { sensorName: 'oauth sensor', sensorType: 'Keyfactor Command', sensorConfig };
}

/** The issues a body gets, as the API reports them. */
function issuesOf(body: unknown): Issue[] {
  const parsed = CreateScanRequestSchema.safeParse(body);
  if (parsed.success) return [];
  return toIssues(parsed.error.issues);
}

function expectIssue(body: unknown, path: string, message: RegExp | string): void {
  const issues = issuesOf(body);
  const match = issues.find((i) => i.path === path);
  expect(match, `issues: ${JSON.stringify(issues)}`).toBeDefined();
  if (typeof message === 'string') expect(match?.message).toContain(message);
  else expect(match?.message).toMatch(message);
}

describe('CreateScanRequestSchema: the seed body', () => {
  it('accepts the seed OAuth2 example and maps it to the core input, secrets in credentials only', () => {
    const body = {
      ...oauthBody({ query_filter: 'IssuerDN -contains "Example"' }),
      callbackId: 'cb-1',
      labels: [{ env: 'prod' }, { team: 'pki' }],
      priority: 'high',
    };
    const input = toCreateScanInput(CreateScanRequestSchema.parse(body));
    expect(input).toEqual({
      sensorName: 'oauth sensor',
      url: OAUTH.url,
      queryFilter: 'IssuerDN -contains "Example"',
      credentials: {
        token_url: OAUTH.token_url,
        client_id: OAUTH.client_id,
        client_secret: OAUTH.client_secret,
        scope: OAUTH.scope,
      },
      callbackId: 'cb-1',
      labels: [
        { name: 'env', value: 'prod' },
        { name: 'team', value: 'pki' },
      ],
      priority: 'high',
    });
  });

  it('accepts Basic with defaults: normal priority, no labels, no filter, no callback', () => {
    const input = toCreateScanInput(CreateScanRequestSchema.parse(basicBody()));
    expect(input).toEqual({
      sensorName: 'prod command',
      url: 'https://command.example.com/KeyfactorAPI',
      queryFilter: null,
      credentials: { username: 'CORP\\scanner', password: PASSWORD },
      callbackId: null,
      labels: [],
      priority: 'normal',
    });
  });

  it('keeps audience, ca_cert, page_size and auto_resolution_interval', () => {
    const { caCertPem } = createSelfSignedCertificate();
    const input = toCreateScanInput(
      CreateScanRequestSchema.parse(
        oauthBody({ audience: 'api://aud', ca_cert: caCertPem, page_size: 250, auto_resolution_interval: 3 }),
      ),
    );
    expect(input.credentials).toMatchObject({ audience: 'api://aud', ca_cert: caCertPem });
    expect(input.pageSize).toBe(250);
    expect(input.autoResolutionInterval).toBe(3);
  });

  it('treats empty strings of the other method as not given (forms post every field)', () => {
    const body = oauthBody({ username: '', password: '' });
    const input = toCreateScanInput(
      CreateScanRequestSchema.parse({
        ...basicBody({}, { token_url: '', client_id: '', client_secret: '', scope: '' }),
        callbackId: '',
      }),
    );
    expect(input.credentials).toEqual({ username: 'CORP\\scanner', password: PASSWORD });
    const oauthOnly = toCreateScanInput(CreateScanRequestSchema.parse(body));
    expect(oauthOnly.credentials.username).toBeUndefined();
    expect(oauthOnly.credentials.client_id).toBe('client-123');
    expect(input.callbackId).toBeNull();
  });

  it('takes priority case-insensitively', () => {
    for (const p of ['HIGH', 'High', 'low', 'NoRmAl']) {
      expect(CreateScanRequestSchema.parse(basicBody({ priority: p })).priority).toBe(p.toLowerCase());
    }
  });

  it('accepts name/value labels and mixes of both forms', () => {
    const parsed = CreateScanRequestSchema.parse(
      basicBody({ labels: [{ name: 'env', value: 'prod' }, { site: 'fra' }, { name: 'x' }] }),
    );
    expect(parsed.labels).toEqual([
      { name: 'env', value: 'prod' },
      { name: 'site', value: 'fra' },
      { name: 'name', value: 'x' },
    ]);
  });

  it('accepts http only for loopback hosts', () => {
    for (const url of ['http://localhost:8080/KeyfactorAPI', 'http://127.0.0.1/x', 'http://[::1]:9/x']) {
      expect(CreateScanRequestSchema.safeParse(basicBody({}, { url })).success, url).toBe(true);
    }
  });
});

describe('CreateScanRequestSchema: bad input', () => {
  it('requires sensorType to be exactly "Keyfactor Command" and says so', () => {
    for (const sensorType of [
      'keyfactor command',
      'Keyfactor',
      '',
      1,
      null,
      undefined,
      ['Keyfactor Command'],
    ]) {
      expectIssue(basicBody({ sensorType }), 'sensorType', 'must be exactly "Keyfactor Command"');
    }
  });

  it('checks sensorName: required, 1-128 characters, one line', () => {
    expectIssue(basicBody({ sensorName: '' }), 'sensorName', 'must not be empty');
    expectIssue(basicBody({ sensorName: 'x'.repeat(129) }), 'sensorName', 'at most 128');
    expectIssue(basicBody({ sensorName: 'a\nb' }), 'sensorName', 'control characters');
    expectIssue(basicBody({ sensorName: 'a\u0000b' }), 'sensorName', 'control characters');
    expectIssue(basicBody({ sensorName: 'a\u2028b' }), 'sensorName', 'control characters');
    expectIssue(basicBody({ sensorName: 42 }), 'sensorName', 'must be a string');
    const { sensorName: _, ...without } = basicBody();
    expect(issuesOf(without).map((i) => i.path)).toContain('sensorName');
  });

  it('rejects non-https URLs and says why http is refused', () => {
    expectIssue(
      basicBody({}, { url: 'http://command.example.com/KeyfactorAPI' }),
      'sensorConfig.url',
      /loopback/,
    );
    expectIssue(basicBody({}, { url: 'http://command.example.com/' }), 'sensorConfig.url', 'clear text');
    expectIssue(basicBody({}, { url: 'ftp://command.example.com/' }), 'sensorConfig.url', 'https');
    expectIssue(basicBody({}, { url: 'javascript:alert(1)' }), 'sensorConfig.url', 'https');
    expectIssue(basicBody({}, { url: 'command.example.com' }), 'sensorConfig.url', 'absolute URL');
    expectIssue(basicBody({}, { url: '' }), 'sensorConfig.url', 'must not be empty');
    expectIssue(
      basicBody({}, { url: `https://a.example/${'x'.repeat(3000)}` }),
      'sensorConfig.url',
      'at most',
    );
    // http://127.0.0.1.example.com is not loopback.
    expectIssue(basicBody({}, { url: 'http://127.0.0.1.evil.example/x' }), 'sensorConfig.url', /loopback/);
  });

  it('rejects credentials, a query string or a fragment in the URL (it is shown in responses)', () => {
    expect(urlProblem(`https://user:${PASSWORD}@command.example.com/`)).toMatch(/credentials/);
    expect(urlProblem('https://command.example.com/?token=x')).toMatch(/query string/);
    expect(urlProblem('https://command.example.com/#x')).toMatch(/fragment/);
    const issues = issuesOf(basicBody({}, { url: `https://user:${PASSWORD}@command.example.com/` }));
    expect(JSON.stringify(issues)).not.toContain(PASSWORD);
  });

  it('rejects a token_url that is not https', () => {
    expectIssue(
      oauthBody({ token_url: 'http://login.example.com/token' }),
      'sensorConfig.token_url',
      /loopback/,
    );
  });

  it('requires credentials', () => {
    expectIssue(
      basicBody({}, { username: undefined, password: undefined }),
      'sensorConfig',
      'credentials are required',
    );
  });

  it('refuses both methods at once, naming what was given', () => {
    const issues = issuesOf(basicBody({}, { client_id: 'c', client_secret: 's' }));
    expect(issues).toEqual([
      {
        path: 'sensorConfig',
        message:
          'give one authentication method, not both: Basic (username, password) and OAuth2 (client_id, client_secret) were both given',
      },
    ]);
    expectIssue(basicBody({}, { audience: 'x' }), 'sensorConfig', 'not both');
  });

  it('names every missing field of half a method', () => {
    expectIssue(basicBody({}, { password: undefined }), 'sensorConfig.password', 'required for Basic');
    expectIssue(basicBody({}, { username: '' }), 'sensorConfig.username', 'missing: username');
    const issues = issuesOf(oauthBody({}, ['client_secret', 'scope']));
    expect(issues.map((i) => i.path).sort()).toEqual(['sensorConfig.client_secret', 'sensorConfig.scope']);
    expect(issues[0]?.message).toBe('is required for OAuth2 authentication (missing: client_secret, scope)');
    expectIssue(oauthBody({}, ['token_url']), 'sensorConfig.token_url', 'OAuth2');
    // An audience alone is OAuth2 with everything else missing.
    const alone = issuesOf(basicBody({}, { username: undefined, password: undefined, audience: 'a' }));
    expect(alone.map((i) => i.path).sort()).toEqual(
      ['client_id', 'client_secret', 'scope', 'token_url'].map((f) => `sensorConfig.${f}`),
    );
  });

  it('rejects a Basic username containing a colon', () => {
    expectIssue(basicBody({}, { username: 'a:b' }), 'sensorConfig.username', "':'");
  });

  it('parses query_filter and names the column of the problem', () => {
    const issues = issuesOf(basicBody({}, { query_filter: 'IssuerDN -contains' }));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('sensorConfig.query_filter');
    expect(issues[0]?.message).toMatch(/^column \d+: /);
    expectIssue(
      basicBody({}, { query_filter: 'NoSuchField -eq 1 AND (' }),
      'sensorConfig.query_filter',
      'column',
    );
    expectIssue(
      basicBody({}, { query_filter: 'CertState -eq "x"' }),
      'sensorConfig.query_filter',
      /column \d+/,
    );
    expectIssue(basicBody({}, { query_filter: '('.repeat(500) }), 'sensorConfig.query_filter', /column/);
    expectIssue(
      basicBody({}, { query_filter: 'x'.repeat(LIMITS.queryFilter + 1) }),
      'sensorConfig.query_filter',
      'at most',
    );
  });

  it('treats a blank query_filter as every certificate', () => {
    expect(
      toCreateScanInput(CreateScanRequestSchema.parse(basicBody({}, { query_filter: '  ' }))).queryFilter,
    ).toBe(null);
  });

  it('checks that ca_cert is PEM holding certificates that parse', () => {
    const { caCertPem } = createSelfSignedCertificate();
    expectIssue(basicBody({}, { ca_cert: 'not a cert' }), 'sensorConfig.ca_cert', 'PEM');
    expectIssue(
      basicBody({}, { ca_cert: '-----BEGIN CERTIFICATE-----\nAAAA\n' }),
      'sensorConfig.ca_cert',
      'not valid PEM',
    );
    expectIssue(
      basicBody({}, { ca_cert: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }),
      'sensorConfig.ca_cert',
      'no CERTIFICATE',
    );
    expectIssue(
      basicBody({}, { ca_cert: '-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n' }),
      'sensorConfig.ca_cert',
      'does not parse',
    );
    // The second of two blocks is broken.
    const broken = `${caCertPem}\n-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n`;
    expectIssue(basicBody({}, { ca_cert: broken }), 'sensorConfig.ca_cert', 'certificate 2');
    expect(CreateScanRequestSchema.safeParse(basicBody({}, { ca_cert: caCertPem })).success).toBe(true);
  });

  it('bounds page_size and auto_resolution_interval', () => {
    for (const page_size of [0, -1, 5001, 1.5, '100', null]) {
      expect(
        issuesOf(basicBody({}, { page_size })).map((i) => i.path),
        String(page_size),
      ).toContain('sensorConfig.page_size');
    }
    for (const auto_resolution_interval of [0, 1001, 2.5, 'five']) {
      expect(issuesOf(basicBody({}, { auto_resolution_interval })).map((i) => i.path)).toContain(
        'sensorConfig.auto_resolution_interval',
      );
    }
  });

  it('rejects unknown fields at every level, plugin-style ones included', () => {
    expectIssue(basicBody({ plugins: ['keyfactor'] }), 'plugins', 'is not a field that can be set');
    expectIssue(basicBody({ scan_config: {} }), 'scan_config', 'is not a field');
    expectIssue(
      basicBody({}, { plugin_config: { url: 'x' } }),
      'sensorConfig.plugin_config',
      'is not a field',
    );
    expectIssue(basicBody({}, { name: 'keyfactor' }), 'sensorConfig.name', 'is not a field');
    expectIssue(basicBody({}, { token: 'x' }), 'sensorConfig.token', 'is not a field');
    expectIssue(basicBody({ sensor_name: 'x' }), 'sensor_name', 'is not a field');
    expectIssue(basicBody({ labels: [{ name: 'a', value: 'b', extra: 'c' }] }), 'labels.0', 'single-entry');
  });

  it('rejects wrong types everywhere', () => {
    expect(issuesOf(null).map((i) => i.path)).toEqual(['']);
    expect(issuesOf([]).map((i) => i.path)).toEqual(['']);
    expect(issuesOf('body').map((i) => i.path)).toEqual(['']);
    expectIssue(basicBody({ sensorConfig: 'https://x' }), 'sensorConfig', '');
    expectIssue(basicBody({ sensorConfig: null }), 'sensorConfig', '');
    expectIssue(basicBody({}, { url: 7 }), 'sensorConfig.url', 'must be a string');
    expectIssue(basicBody({}, { password: 1234 }), 'sensorConfig.password', 'must be a string');
    expectIssue(basicBody({}, { username: ['a'] }), 'sensorConfig.username', 'must be a string');
    expectIssue(basicBody({ callbackId: 5 }), 'callbackId', 'must be a string');
    expectIssue(basicBody({ labels: { env: 'prod' } }), 'labels', 'must be a list');
  });

  it('rejects a bad priority', () => {
    for (const priority of ['urgent', '', 1, null, ['high'], 'high ']) {
      expectIssue(basicBody({ priority }), 'priority', 'must be one of high, normal, low');
    }
  });

  it('rejects bad labels', () => {
    expectIssue(basicBody({ labels: [{}] }), 'labels.0', 'single-entry');
    expectIssue(basicBody({ labels: [{ a: '1', b: '2' }] }), 'labels.0', 'single-entry');
    expectIssue(basicBody({ labels: ['env=prod'] }), 'labels.0', 'single-entry');
    expectIssue(basicBody({ labels: [null] }), 'labels.0', 'single-entry');
    expectIssue(basicBody({ labels: [{ env: 5 }] }), 'labels.0.value', 'must be a string');
    expectIssue(basicBody({ labels: [{ env: { nested: 'x' } }] }), 'labels.0.value', 'must be a string');
    expectIssue(basicBody({ labels: [{ '': 'x' }] }), 'labels.0.name', 'must not be empty');
    expectIssue(basicBody({ labels: [{ 'a\nb': 'x' }] }), 'labels.0.name', 'control');
    expectIssue(basicBody({ labels: [{ a: 'x'.repeat(300) }] }), 'labels.0.value', 'at most 256');
    expectIssue(basicBody({ labels: [{ env: 'a' }, { name: 'env', value: 'b' }] }), 'labels.1', 'duplicate');
    const many = Array.from({ length: 51 }, (_, i) => ({ [`k${i}`]: 'v' }));
    expectIssue(basicBody({ labels: many }), 'labels', 'at most 50');
  });

  it('keeps a "__proto__" label as an ordinary label instead of losing it', () => {
    const body = JSON.parse(
      JSON.stringify(basicBody()).replace(/}$/, ',"labels":[{"__proto__":"x"}]}'),
    ) as unknown;
    const parsed = CreateScanRequestSchema.parse(body);
    expect(parsed.labels).toEqual([{ name: '__proto__', value: 'x' }]);
    expect(Object.getPrototypeOf(parsed.labels?.[0])).toBe(Object.prototype);
  });

  it('survives hostile JSON: huge strings, deep nesting, prototype keys', () => {
    const huge = 'x'.repeat(1_000_000);
    expectIssue(basicBody({ sensorName: huge }), 'sensorName', 'at most');
    expectIssue(basicBody({}, { password: huge }), 'sensorConfig.password', 'at most');
    expectIssue(basicBody({ callbackId: huge }), 'callbackId', 'at most');
    let deep: unknown = 'x';
    for (let i = 0; i < 5000; i++) deep = { a: deep };
    expectIssue(basicBody({}, { url: deep }), 'sensorConfig.url', 'must be a string');
    const proto = JSON.parse(
      '{"sensorName":"s","sensorType":"Keyfactor Command","__proto__":{"admin":true},' +
        '"sensorConfig":{"url":"https://a.example","username":"u","password":"p","constructor":{"prototype":1}}}',
    ) as unknown;
    const issues = issuesOf(proto);
    expect(issues.map((i) => i.path).sort()).toEqual(['__proto__', 'sensorConfig.constructor']);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('never echoes a submitted value in any issue', () => {
    const secret = 'zz-SECRET-zz';
    const bodies = [
      basicBody({ priority: secret }),
      basicBody({ sensorType: secret }),
      basicBody({}, { url: secret }),
      basicBody({}, { url: `https://u:${secret}@h.example/` }),
      basicBody({}, { password: secret, client_secret: secret }),
      basicBody({}, { ca_cert: secret }),
      basicBody({}, { page_size: secret }),
      basicBody({ labels: [{ a: secret, b: secret }] }),
      basicBody({ callbackId: `${secret}\n` }),
    ];
    for (const body of bodies) {
      const issues = issuesOf(body);
      expect(issues.length).toBeGreaterThan(0);
      expect(JSON.stringify(issues)).not.toContain(secret);
    }
  });
});

describe('CreateScheduleRequestSchema', () => {
  const scan = basicBody();

  it('accepts cron and rate expressions with a timezone', () => {
    for (const expression of [
      'cron(0 2 * * ? *)',
      'cron(15 10 ? * MON-FRI *)',
      'cron(0/15 * * * ? *)',
      'cron(0 8 1,15 * ? 2026-2030)',
      'cron(0 18 L * ? *)',
      'cron(0 9 ? * 6#3 *)',
      'cron(0 9 15W JAN-MAR ? *)',
      'rate(1 hour)',
      'rate(12 hours)',
      'rate(5 minutes)',
      'rate(1 day)',
    ]) {
      expect(scheduleExpressionProblem(expression), expression).toBeNull();
    }
    const parsed = CreateScheduleRequestSchema.parse({
      name: 'nightly',
      expression: 'cron(0 2 * * ? *)',
      timezone: 'Europe/Berlin',
      scan,
    });
    expect(parsed.timezone).toBe('Europe/Berlin');
  });

  it('rejects invalid expressions, naming the field and the problem', () => {
    const cases: [string, RegExp][] = [
      ['', /must be cron/],
      ['every day', /must be cron/],
      ['cron(0 2 * * *)', /6 fields/],
      ['cron(0 2 * * * *)', /exactly one of day-of-month and day-of-week/],
      ['cron(0 2 ? * ? *)', /exactly one/],
      ['cron(60 2 * * ? *)', /minutes '60' is not in 0-59/],
      ['cron(0 24 * * ? *)', /hours/],
      ['cron(0 2 32 * ? *)', /day-of-month/],
      ['cron(0 2 * 13 ? *)', /month/],
      ['cron(0 2 ? * 8 *)', /day-of-week/],
      ['cron(0 2 ? * MON#6 *)', /#<1-5>/],
      ['cron(0 2 * * ? 1969)', /year/],
      ['cron(0/0 2 * * ? *)', /step/],
      ['cron(? 2 * * ? *)', /minutes cannot be '\?'/],
      ['rate(0 minutes)', /at least 1/],
      ['rate(1 hours)', /singular/],
      ['rate(5 minute)', /plural/],
      ['rate(5 weeks)', /unit/],
      ['rate(five minutes)', /rate\(<positive/],
      ['at(2026-01-01T00:00:00)', /not supported/],
    ];
    for (const [expression, problem] of cases) {
      const parsed = CreateScheduleRequestSchema.safeParse({ name: 'n', expression, scan });
      expect(parsed.success, expression).toBe(false);
      const issues = parsed.success ? [] : toIssues(parsed.error.issues);
      expect(issues, expression).toHaveLength(1);
      expect(issues[0]?.path).toBe('expression');
      expect(issues[0]?.message, expression).toMatch(problem);
    }
  });

  it('rejects an unknown timezone, a bad name, a bad scan and unknown fields', () => {
    const base = { name: 'n', expression: 'rate(1 day)', scan };
    const paths = (body: unknown) => {
      const parsed = CreateScheduleRequestSchema.safeParse(body);
      return parsed.success ? [] : toIssues(parsed.error.issues).map((i) => i.path);
    };
    expect(paths({ ...base, timezone: 'Mars/Olympus' })).toEqual(['timezone']);
    expect(paths({ ...base, name: '' })).toEqual(['name']);
    expect(paths({ ...base, enabled: false })).toEqual(['enabled']);
    expect(paths({ ...base, scan: { ...scan, priority: 'urgent' } })).toEqual(['scan.priority']);
    expect(paths({ ...base, scan: undefined })).toEqual(['scan']);
    expect(paths({ ...base, expression: 'x'.repeat(300) })).toEqual(['expression']);
  });
});

describe('path and query parameters', () => {
  it('validates the scan id format', () => {
    expect(ScanIdParamsSchema.parse({ scanId: '01jdq3z6w8k4n2v7r5t9b1c3xh' })).toEqual({
      scanId: '01JDQ3Z6W8K4N2V7R5T9B1C3XH',
    });
    for (const scanId of [
      '',
      '../etc',
      'a b',
      'x'.repeat(200),
      '01JDQ3Z6W8K4N2V7R5T9B1C3X',
      '01JDQ3Z6W8K4N2V7R5T9B1C3XU',
      '01JDQ3Z6W8K4N2V7R5T9B1C3X;',
    ]) {
      expect(ScanIdParamsSchema.safeParse({ scanId }).success, scanId).toBe(false);
    }
  });

  it('parses the listing query', () => {
    expect(ListScansQuerySchema.parse({ state: 'running', limit: '10' })).toEqual({
      state: 'RUNNING',
      limit: 10,
    });
    for (const query of [
      { state: 'DONE' },
      { limit: '0' },
      { limit: '101' },
      { limit: 'ten' },
      { other: '1' },
    ]) {
      expect(ListScansQuerySchema.safeParse(query).success, JSON.stringify(query)).toBe(false);
    }
  });
});
