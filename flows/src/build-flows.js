#!/usr/bin/env node
// Writes the bundled flows from one description, so the quick-start flow and
// the examples never drift apart:
//   flows/rtu-pipeline.json                     pipeline tab + dashboard tab (quick start)
//   examples/rtu-pipeline.json                  the same, for Import -> Examples
//   flows/rtu-pipeline-dashboard-2.json          pipeline tab + the same views on FlowFuse Dashboard 2
//   examples/rtu-pipeline-dashboard-2.json       the same, for Import -> Examples
//   examples/rtu-pipeline-without-dashboard.json the pipeline alone: needs this package only
//   examples/rtu-dashboard.json                 the dashboard feed node on simulated meters, no UI package needed
//   examples/rtu-test-mode.json                 the test-mode node on simulated meters
//   examples/site-200-meters.json               200 meters on 12 simulated lines from one device table
// The dashboard widgets' code lives beside this file (devices.html, overview.html, test-mode.html).
//   node flows/src/build-flows.js          write the files
//   node flows/src/build-flows.js --check  exit 1 when a written file differs (used by the tests)
'use strict';
const fs = require('fs');
const path = require('path');
const { dashboard2 } = require('./dashboard-2');

const root = path.resolve(__dirname, '..', '..');
const src = (name) => fs.readFileSync(path.join(__dirname, name), 'utf8');

/** Placeholders: everything on this machine, nothing secret. The e2e tests rewrite the ports. */
const PLACES = {
  simulatorPort: 15030,
  gatewayPort: 1503,
  // The IEC 104 standard port; above 1023, so Node-RED needs no root to listen on it.
  iec104Port: 2404,
  mqttHost: '127.0.0.1',
  mqttPort: 1883,
  httpUrl: 'http://127.0.0.1:8080/rtu/readings',
};

const METERS = [
  { id: 1, name: 'meter-1', profile: 'all' },
  { id: 2, name: 'meter-2', profile: 'all' },
  { id: 3, name: 'meter-3', profile: 'full_power' },
  // Declared on the simulator as switched off, so the dashboard shows an offline device and why.
  { id: 4, name: 'meter-4', profile: 'basic_power' },
];

function poller(prefix, z, m, x, y, wires, extra = {}) {
  return {
    id: `${prefix}_poll_${m.id}`,
    type: 'rtu-modbus-poller',
    z,
    name: m.name,
    line: `${prefix}_line`,
    unitId: m.id,
    unitIdType: 'num',
    interval: 1,
    flatOut: false,
    bitWrites: 'read-modify-write',
    source: 'model',
    model: 'rtu/simulated-energy-meter',
    profile: m.profile,
    points: [],
    maxGap: 10,
    maxRegisters: '',
    neverRead: '',
    byteOrder: '',
    includeRaw: true,
    cache: '',
    outputs: 1,
    x,
    y,
    wires: [wires],
    ...extra,
  };
}

function simulator(prefix, z, port, x, y) {
  return {
    id: `${prefix}_sim`,
    type: 'rtu-simulator',
    z,
    name: 'simulated meters',
    host: '127.0.0.1',
    port,
    units: METERS.map((m) => ({ unitId: m.id, model: '' })),
    deadUnits: '4',
    latency: 0,
    x,
    y,
    wires: [],
  };
}

function line(prefix, port) {
  return {
    id: `${prefix}_line`,
    type: 'rtu-modbus-line',
    name: 'site bus (simulated)',
    transport: 'tcp',
    host: '127.0.0.1',
    hostType: 'str',
    port,
    portType: 'num',
    // Shown when the line is switched to serial: the common RS485 meter setting.
    serialPath: '',
    serialPathType: 'str',
    baudRate: 9600,
    parity: 'none',
    dataBits: 8,
    stopBits: 1,
    timeout: 1000,
    retries: 1,
    interRequestDelay: 0,
    maxOutstanding: 1,
    unitBackoffMax: 60,
    reconnectMax: 30,
  };
}

const comment = (id, z, name, info, x, y) => ({ id, type: 'comment', z, name, info, x, y, wires: [] });
const debug = (id, z, name, x, y, complete = 'true') => ({
  id,
  type: 'debug',
  z,
  name,
  active: false,
  tosidebar: true,
  console: false,
  tostatus: false,
  complete,
  targetType: complete === 'true' ? 'full' : 'msg',
  statusVal: '',
  statusType: 'auto',
  x,
  y,
  wires: [],
});
const inject = (id, z, name, topic, payload, payloadType, x, y, wires) => ({
  id,
  type: 'inject',
  z,
  name,
  props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }],
  repeat: '',
  crontab: '',
  once: false,
  onceDelay: 0.1,
  topic,
  payload,
  payloadType,
  x,
  y,
  wires: [wires],
});

const ALERT_RULES = [
  { id: 'voltage-high', device: 'meter-*', point: 'voltage_l?_n', type: 'high', limit: 253, deadband: 2, onDelay: 5, severity: 'major', category: 'power' },
  { id: 'voltage-low', device: 'meter-*', point: 'voltage_l?_n', type: 'low', limit: 207, deadband: 2, onDelay: 5, severity: 'major', category: 'power' },
  { id: 'frequency-band', device: 'meter-*', point: 'frequency', type: 'band', low: 49.5, high: 50.5, deadband: 0.05, onDelay: 5, severity: 'minor', category: 'power' },
  { id: 'meter-offline', device: 'meter-*', type: 'offline', timeout: 15, severity: 'critical', category: 'communication' },
  { id: 'disk-low', device: 'system', point: 'disk_free_percent', type: 'low', limit: 10, deadband: 2, severity: 'major', category: 'system' },
];

/** Point table of the IEC 104 outstation: per meter n, IOA n*1000 + 1..4 (floats, with deadbands). */
const IEC104_POINTS = [
  'device,point,ioa,type,deadband,group,sbo',
  ...METERS.flatMap((m) => [
    `${m.name},voltage_l1_n,${m.id * 1000 + 1},M_ME_NC_1,0.5,1,`,
    `${m.name},current_l1,${m.id * 1000 + 2},M_ME_NC_1,0.1,1,`,
    `${m.name},active_power_total,${m.id * 1000 + 3},M_ME_NC_1,50,1,`,
    `${m.name},frequency,${m.id * 1000 + 4},M_ME_NC_1,0.01,1,`,
  ]),
].join('\n');

/** The pipeline tab. `links` adds the link nodes that carry alerts to and acknowledgements from the dashboard tab. */
function pipeline(links) {
  const z = 'rtu_pl_tab';
  const p = 'rtu_pl';
  const readingsTo = [`${p}_alert`, `${p}_mqtt`, `${p}_http`, `${p}_readings_dbg`];
  const nodes = [
    {
      id: z,
      type: 'tab',
      label: 'RTU pipeline',
      info:
        'Simulated meters (rtu-simulator on 127.0.0.1:15030, unit 4 switched off) are polled every second over a Modbus TCP line. ' +
        'Each reading goes to the register cache (and from there to the Modbus TCP gateway for SCADA on 127.0.0.1:1503, units 11..14, ' +
        'and to the IEC 60870-5-104 outstation on 127.0.0.1:2404, common address 1, IOA 1001..4004, read-only), ' +
        'to the alert rules (and their notifiers), and to the MQTT and HTTP publishers. The health node reports every 10 s.\n\n' +
        'Everything points at this machine. The notifiers have no webhook or token and the test-mode node starts a fresh install in test mode, ' +
        'so nothing leaves the machine until you fill in real targets and switch to production (dashboard, or the inject nodes below). ' +
        'The MQTT publisher expects a broker on 127.0.0.1:1883 and the HTTP publisher a receiver on 127.0.0.1:8080; without them they queue readings on disk and retry.',
    },
    comment(`${p}_c1`, z, 'meters -> line -> pollers -> cache -> gateway', '', 220, 40),
    simulator(p, z, PLACES.simulatorPort, 150, 100),
    line(p, PLACES.simulatorPort),
    { id: `${p}_cache`, type: 'rtu-cache', name: 'site cache', ttl: 30 },
    ...METERS.map((m, i) => poller(p, z, m, 140, 160 + i * 50, [`${p}_junction`], { cache: `${p}_cache` })),
    { id: `${p}_junction`, type: 'junction', z, x: 320, y: 235, wires: [readingsTo] },
    // The quick start shows the readings in the debug sidebar.
    { ...debug(`${p}_readings_dbg`, z, 'readings', 550, 360, 'payload'), active: true },
    {
      id: `${p}_gw`,
      type: 'rtu-gateway',
      z,
      name: 'SCADA gateway',
      cache: `${p}_cache`,
      idleTimeout: 60,
      host: '127.0.0.1',
      hostType: 'str',
      port: PLACES.gatewayPort,
      portType: 'num',
      maxConnections: 32,
      devices: METERS.map((m) => ({ device: m.name, unitId: 10 + m.id })),
      writesEnabled: false,
      allowWrites: [],
      writeTimeout: 5,
      x: 150,
      y: 400,
      wires: [[]],
    },
    {
      id: `${p}_iec104`,
      type: 'rtu-iec104-server',
      z,
      name: 'SCADA IEC 104',
      cache: `${p}_cache`,
      host: '127.0.0.1',
      port: PLACES.iec104Port,
      commonAddress: 1,
      cotSize: 2,
      caSize: 2,
      ioaSize: 3,
      k: 12,
      w: 8,
      t1: 15,
      t2: 10,
      t3: 20,
      points: IEC104_POINTS,
      allowCommands: false,
      selectTimeout: 10,
      commandTimeout: 10,
      eventBuffer: 10000,
      cyclic: 0,
      background: 0,
      groups: '',
      x: 150,
      y: 460,
      wires: [[]],
    },
    comment(`${p}_c2`, z, 'readings -> alerts -> notifiers, MQTT, HTTP', '', 650, 40),
    {
      id: `${p}_alert`,
      type: 'rtu-alert',
      z,
      name: 'site alerts',
      rules: ALERT_RULES,
      rulesYaml: '',
      rulesFile: '',
      persist: true,
      reannounce: true,
      x: 560,
      y: 160,
      wires: [[`${p}_alerts_only`, ...(links ? [`${p}_to_dash`] : [])]],
    },
    {
      // The alert node also answers "list" (topic alerts/active) for the dashboard: notifiers get alert events only.
      id: `${p}_alerts_only`,
      type: 'switch',
      z,
      name: 'alert events',
      property: 'topic',
      propertyType: 'msg',
      rules: [{ t: 'regex', v: '^alert/', vt: 'str', case: false }],
      checkall: 'true',
      repair: false,
      outputs: 1,
      x: 720,
      y: 160,
      wires: [[`${p}_discord`, `${p}_telegram`]],
    },
    {
      id: `${p}_discord`,
      type: 'rtu-discord',
      z,
      name: 'Discord (no webhook yet)',
      style: 'embed',
      username: 'RTU',
      title: 'Site RTU',
      template: '',
      timeZone: '',
      groupWindow: 2,
      minSeverity: 'minor',
      notifyRaised: true,
      notifyCleared: true,
      notifyAcknowledged: true,
      testTarget: 'dry-run',
      persist: true,
      apiBase: 'https://discord.com/api',
      x: 930,
      y: 120,
      wires: [[]],
    },
    {
      id: `${p}_telegram`,
      type: 'rtu-telegram',
      z,
      name: 'Telegram (no token yet)',
      chatId: '-1000000000000',
      chatIdType: 'str',
      title: 'Site RTU',
      template: '',
      timeZone: '',
      silent: false,
      groupWindow: 2,
      minSeverity: 'major',
      notifyRaised: true,
      notifyCleared: true,
      notifyAcknowledged: true,
      testTarget: 'dry-run',
      testChatId: '',
      testChatIdType: 'str',
      persist: true,
      apiBase: 'https://api.telegram.org',
      x: 930,
      y: 170,
      wires: [[]],
    },
    {
      id: `${p}_broker`,
      type: 'rtu-mqtt-broker',
      name: 'local broker',
      statusTestPrefix: 'test/',
      host: PLACES.mqttHost,
      port: PLACES.mqttPort,
      tls: false,
      tlsCa: '',
      tlsCert: '',
      rejectUnauthorized: true,
      servername: '',
      protocolVersion: '4',
      clientId: '',
      keepalive: 60,
      cleanSession: true,
      sessionExpiry: 3600,
      statusTopic: 'site/rtu/status',
      onlinePayload: 'online',
      offlinePayload: 'offline',
      statusQos: '1',
      statusRetain: true,
    },
    {
      id: `${p}_mqtt`,
      type: 'rtu-mqtt-out',
      z,
      name: 'readings to MQTT',
      broker: `${p}_broker`,
      topic: 'site/{device}/measurements',
      topicType: 'str',
      split: 'device',
      qos: '1',
      retain: false,
      interval: 0,
      intervals: '',
      aggregate: 'latest',
      rbe: false,
      deadbands: '',
      heartbeat: 0,
      testTopicPrefix: 'test/',
      testTopicPrefixType: 'str',
      queueDir: '',
      queueSizeMb: 64,
      fsync: 'interval',
      maxRate: 0,
      maxInFlight: 500,
      x: 570,
      y: 260,
      wires: [[]],
    },
    {
      id: `${p}_http`,
      type: 'rtu-http-out',
      z,
      name: 'readings to HTTP',
      url: PLACES.httpUrl,
      urlType: 'str',
      method: 'POST',
      testUrl: '',
      testUrlType: 'str',
      format: 'document',
      template: '{"device": {{device}}, "time": {{timestamp}}, "values": {{values}}, "id": {{id}}}',
      templateJoin: 'array',
      measurement: 'rtu',
      precision: 'ms',
      contentType: '',
      headers: '',
      authType: 'none',
      batchSize: 100,
      batchWait: 5,
      gzip: false,
      timeout: 10,
      retryMax: 60,
      tlsCa: '',
      tlsCert: '',
      rejectUnauthorized: true,
      interval: 0,
      intervals: '',
      aggregate: 'latest',
      queueDir: '',
      queueSizeMb: 64,
      fsync: 'interval',
      maxRate: 0,
      x: 570,
      y: 310,
      wires: [[]],
    },
    comment(`${p}_c3`, z, 'health every 10 s, also checked by the alert rules', '', 650, 440),
    {
      id: `${p}_health`,
      type: 'rtu-health',
      z,
      name: 'RTU health',
      interval: 10,
      systemName: 'system',
      diskPath: '',
      ntpServer: '',
      ntpInterval: 10,
      staleAfter: '',
      offlineAfter: 3,
      prometheus: false,
      prometheusPath: '/rtu/metrics',
      x: 560,
      y: 500,
      wires: [[`${p}_health_dbg`], [`${p}_alert`]],
    },
    debug(`${p}_health_dbg`, z, 'health snapshot', 800, 500, 'payload'),
    comment(`${p}_c4`, z, 'test mode: try a configuration before going live', '', 220, 560),
    inject(`${p}_tm_on`, z, 'test mode on', 'test-mode', 'true', 'bool', 130, 620, [`${p}_tm`]),
    inject(`${p}_tm_off`, z, 'back to production', 'test-mode', 'false', 'bool', 150, 660, [`${p}_tm`]),
    inject(`${p}_tm_verify`, z, 'verify configuration', 'verify', '', 'str', 150, 700, [`${p}_tm`]),
    {
      id: `${p}_tm`,
      type: 'rtu-test-mode',
      z,
      name: 'test mode',
      timeout: 10,
      concurrency: 16,
      limits: [],
      announce: true,
      initial: 'test',
      x: 390,
      y: 660,
      wires: [[`${p}_tm_dbg`]],
    },
    debug(`${p}_tm_dbg`, z, 'test mode and verification', 620, 660, 'payload'),
  ];
  if (links) {
    nodes.push(
      { id: `${p}_to_dash`, type: 'link out', z, name: 'alerts to dashboard', mode: 'link', links: ['rtu_db_from_alerts'], x: 715, y: 220, wires: [] },
      { id: `${p}_from_dash`, type: 'link in', z, name: 'acknowledge from dashboard', links: ['rtu_db_to_alerts'], x: 415, y: 110, wires: [[`${p}_alert`]] },
    );
  }
  return nodes;
}

function template(id, z, name, group, order, file, width, height, wires) {
  return {
    id,
    type: 'ui_template',
    z,
    group,
    name,
    order,
    width,
    height,
    format: src(file),
    storeOutMessages: false,
    fwdInMessages: false,
    resendOnRefresh: true,
    templateScope: 'local',
    className: '',
    x: 0,
    y: 0,
    wires: [wires],
  };
}

/** The dashboard tab: the widgets, the dashboard feed and the test-mode panel. */
function dashboard() {
  const z = 'rtu_db_tab';
  const p = 'rtu_db';
  const place = (node, x, y) => Object.assign(node, { x, y });
  return [
    {
      id: z,
      type: 'tab',
      label: 'RTU dashboard',
      info:
        'The RTU tab of node-red-dashboard (http://127.0.0.1:1880/ui): device health table, live values, lines and queues, alerts with acknowledge, system figures, a site trend, each viewer\'s own trend of any point (in the device detail), and the test-mode panel. ' +
        'The dashboard feed reads every deployed device by itself; alerts come from the pipeline tab through the link nodes. Needs node-red-dashboard 3.',
    },
    { id: `${p}_ui_tab`, type: 'ui_tab', name: 'RTU', icon: 'dashboard', order: 1, disabled: false, hidden: false },
    // First in the view, on every screen size: whether the site is in test mode.
    { id: `${p}_g_mode`, type: 'ui_group', name: 'Mode', tab: `${p}_ui_tab`, order: 1, disp: false, width: 18, collapse: false, className: 'rtu-fit' },
    { id: `${p}_g_devices`, type: 'ui_group', name: 'Devices', tab: `${p}_ui_tab`, order: 2, disp: true, width: 18, collapse: false, className: 'rtu-fit' },
    { id: `${p}_g_overview`, type: 'ui_group', name: 'Alerts, lines, queues, system', tab: `${p}_ui_tab`, order: 3, disp: true, width: 8, collapse: false, className: 'rtu-fit' },
    { id: `${p}_g_trend`, type: 'ui_group', name: 'Site trend', tab: `${p}_ui_tab`, order: 4, disp: true, width: 8, collapse: false, className: 'rtu-fit' },
    { id: `${p}_g_test`, type: 'ui_group', name: 'Test mode', tab: `${p}_ui_tab`, order: 5, disp: true, width: 18, collapse: false, className: 'rtu-fit' },
    comment(`${p}_c1`, z, 'dashboard feed -> widgets; widget actions -> feed', '', 260, 40),
    place(
      {
        id: `${p}_fit`,
        type: 'ui_template',
        z,
        group: '',
        name: 'RTU groups fit a phone screen',
        order: 0,
        width: 0,
        height: 0,
        format: src('fit.html'),
        storeOutMessages: false,
        fwdInMessages: false,
        resendOnRefresh: false,
        templateScope: 'global',
        className: '',
        wires: [[]],
      },
      660,
      40,
    ),
    place(
      {
        id: `${p}_feed`,
        type: 'rtu-dashboard',
        z,
        name: 'dashboard feed',
        refresh: 2,
        keyPoints: '',
        trendDevice: 'meter-1',
        trendPoint: 'active_power_total',
        readTimeout: 10,
        wires: [[`${p}_devices`], [`${p}_overview`], [`${p}_chart`], [`${p}_to_alerts`]],
      },
      360,
      160,
    ),
    place(template(`${p}_devices`, z, 'device health table', `${p}_g_devices`, 1, 'devices.html', 18, 13, [`${p}_feed`]), 640, 100),
    place(template(`${p}_overview`, z, 'alerts, lines, queues, system', `${p}_g_overview`, 1, 'overview.html', 8, 13, [`${p}_feed`]), 650, 160),
    place(
      {
        id: `${p}_chart`,
        type: 'ui_chart',
        z,
        name: 'trend',
        group: `${p}_g_trend`,
        order: 1,
        width: 8,
        height: 6,
        label: 'site trend',
        chartType: 'line',
        legend: 'true',
        xformat: 'HH:mm:ss',
        interpolate: 'linear',
        nodata: 'no values yet',
        dot: false,
        ymin: '',
        ymax: '',
        removeOlder: 15,
        removeOlderPoints: '',
        removeOlderUnit: '60',
        cutout: 0,
        useOneColor: false,
        useUTC: false,
        colors: ['#1f77b4', '#aec7e8', '#ff7f0e', '#2ca02c', '#98df8a', '#d62728', '#ff9896', '#9467bd', '#c5b0d5'],
        outputs: 1,
        useDifferentColor: false,
        className: '',
        wires: [[]],
      },
      620,
      220,
    ),
    { id: `${p}_from_alerts`, type: 'link in', z, name: 'alerts from pipeline', links: ['rtu_pl_to_dash'], x: 135, y: 160, wires: [[`${p}_feed`]] },
    { id: `${p}_to_alerts`, type: 'link out', z, name: 'acknowledge to alerts', mode: 'link', links: ['rtu_pl_from_dash'], x: 615, y: 280, wires: [] },
    comment(`${p}_c2`, z, 'test-mode panel <-> test-mode node', '', 180, 360),
    place(
      {
        id: `${p}_tm`,
        type: 'rtu-test-mode',
        z,
        name: 'test mode (dashboard)',
        timeout: 10,
        concurrency: 16,
        limits: [],
        announce: true,
        initial: 'test',
        wires: [[`${p}_tm_panel`, `${p}_tm_strip`]],
      },
      200,
      420,
    ),
    place(template(`${p}_tm_panel`, z, 'test-mode panel', `${p}_g_test`, 1, 'test-mode.html', 18, 10, [`${p}_tm`]), 460, 420),
    place(template(`${p}_tm_strip`, z, 'test-mode state at the top', `${p}_g_mode`, 1, 'mode-strip.html', 18, 1, []), 470, 470),
  ];
}

/** The dashboard feed alone, on its own simulated meters, with debug nodes instead of widgets. */
function dashboardExample() {
  const z = 'rtu_dbx_tab';
  const p = 'rtu_dbx';
  return [
    {
      id: z,
      type: 'tab',
      label: 'RTU dashboard feed example',
      info:
        'The dashboard feed node on simulated meters (127.0.0.1:15032, unit 4 switched off), without node-red-dashboard: its four outputs go to debug nodes. ' +
        'The full dashboard tab is in the RTU pipeline example. Use the inject nodes to select a device, read the offline one (feed-meter-4) now: the detail says why it fails; and trend a point.',
    },
    simulator(p, z, 15032, 140, 60),
    line(p, 15032),
    ...METERS.map((m, i) => poller(p, z, { ...m, name: `feed-${m.name}` }, 140, 120 + i * 50, [])),
    inject(`${p}_sel`, z, 'select feed-meter-1', 'select', 'feed-meter-1', 'str', 160, 340, [`${p}_feed`]),
    inject(`${p}_read`, z, 'read feed-meter-4 now', 'read', 'feed-meter-4', 'str', 160, 380, [`${p}_feed`]),
    inject(`${p}_trend`, z, 'trend feed-meter-2 frequency', 'trend', '{"device":"feed-meter-2","point":"frequency"}', 'json', 180, 420, [`${p}_feed`]),
    {
      id: `${p}_feed`,
      type: 'rtu-dashboard',
      z,
      name: 'dashboard feed',
      refresh: 5,
      keyPoints: '',
      trendDevice: '',
      trendPoint: '',
      readTimeout: 10,
      x: 420,
      y: 380,
      wires: [[`${p}_d1`], [`${p}_d2`], [`${p}_d3`], [`${p}_d4`]],
    },
    debug(`${p}_d1`, z, 'device table and detail', 680, 320, 'payload'),
    debug(`${p}_d2`, z, 'alerts, lines, queues, system', 690, 360, 'payload'),
    debug(`${p}_d3`, z, 'trend points', 660, 400, 'true'),
    debug(`${p}_d4`, z, 'acknowledge requests', 670, 440, 'true'),
  ];
}

function testModeExample() {
  const z = 'rtu_tmx_tab';
  const p = 'rtu_tmx';
  return [
    {
      id: z,
      type: 'tab',
      label: 'RTU test mode example',
      info:
        'Switch the RTU-wide test mode and verify the configuration: every deployed device (here three simulated meters on 127.0.0.1:15031, tm-meter-4 switched off) is read once; ' +
        'the result says per device whether it answered, its request plan, its values with units, and the values outside plausible ranges. ' +
        'tm-meter-3 is configured with the wrong word order (CDAB) on purpose: verify flags its values. The state survives a restart (rtu-test-mode.json in the user directory).',
    },
    simulator(p, z, 15031, 140, 60),
    line(p, 15031),
    poller(p, z, { id: 1, name: 'tm-meter-1', profile: 'basic_power' }, 140, 120, []),
    poller(p, z, { id: 4, name: 'tm-meter-4', profile: 'basic_power' }, 140, 170, []),
    poller(p, z, { id: 3, name: 'tm-meter-3', profile: 'basic_power' }, 140, 220, [], { byteOrder: 'CDAB' }),
    inject(`${p}_on`, z, 'test mode on', 'test-mode', 'true', 'bool', 130, 300, [`${p}_tm`]),
    inject(`${p}_off`, z, 'back to production', 'test-mode', 'false', 'bool', 150, 340, [`${p}_tm`]),
    inject(`${p}_verify`, z, 'verify configuration', 'verify', '', 'str', 150, 380, [`${p}_tm`]),
    {
      id: `${p}_tm`,
      type: 'rtu-test-mode',
      z,
      name: 'test mode',
      timeout: 5,
      concurrency: 16,
      limits: [{ point: 'frequency', min: 49, max: 51 }],
      announce: true,
      initial: '',
      x: 380,
      y: 340,
      wires: [[`${p}_out`]],
    },
    debug(`${p}_out`, z, 'panel: state and verification', 620, 340, 'payload'),
  ];
}

/** 200 meters on 12 lines: 17 on the first eight, 16 on the last four; every fourth meter an Eastron SDM630. */
const SITE = { lines: 12, meters: 200, firstPort: 15040 };

function siteMeters() {
  const meters = [];
  for (let i = 0; i < SITE.meters; i++) {
    const lineNo = (i % SITE.lines) + 1;
    const unit = Math.floor(i / SITE.lines) + 1;
    const sdm = unit % 4 === 0;
    meters.push({
      name: `L${String(lineNo).padStart(2, '0')}-M${String(unit).padStart(2, '0')}`,
      line: `feeder ${String(lineNo).padStart(2, '0')}`,
      unitId: unit,
      model: sdm ? 'eastron/sdm630' : 'rtu/simulated-energy-meter',
      profile: sdm ? 'energy' : 'basic_power',
      interval: 5,
      enabled: true,
    });
  }
  return meters;
}

function siteExample() {
  const z = 'rtu_site_tab';
  const p = 'rtu_site';
  const meters = siteMeters();
  const nodes = [
    {
      id: z,
      type: 'tab',
      label: 'Site of 200 meters (device table)',
      info:
        `One rtu-modbus-fleet node polls 200 meters on 12 lines from its device table. Each line is a simulator on 127.0.0.1:${SITE.firstPort}..${SITE.firstPort + SITE.lines - 1} ` +
        'standing in for an RS485 bus; for a real site switch each line node to Modbus RTU (serial) and its adapter, and import the site\'s meter list as CSV or YAML in the table dialog. ' +
        'The injects change the table while it runs (no redeploy): the change is kept in the user directory until "clear runtime changes". ' +
        'The same changes are open to external tools at GET/POST/PUT/DELETE /rtu/fleet/<node id>/devices.',
    },
  ];
  for (let l = 1; l <= SITE.lines; l++) {
    const port = SITE.firstPort + l - 1;
    const name = `feeder ${String(l).padStart(2, '0')}`;
    const units = meters.filter((m) => m.line === name).map((m) => ({ unitId: m.unitId, model: m.model === 'rtu/simulated-energy-meter' ? '' : m.model }));
    nodes.push({ ...simulator(`${p}_${l}`, z, port, 120 + 200 * ((l - 1) % 6), l <= 6 ? 60 : 100), name: `${name} :${port}`, units, deadUnits: '' });
    nodes.push({ ...line(`${p}_${l}`, port), name, timeout: 500 });
  }
  // One spare meter on feeder 12's simulator: the "add" inject brings it in at runtime.
  const spare = nodes.find((n) => n.id === `${p}_12_sim`);
  spare.units.push({ unitId: 30, model: '' });
  nodes.push(
    {
      id: `${p}_fleet`,
      type: 'rtu-modbus-fleet',
      z,
      name: 'site meters',
      devices: meters,
      includeRaw: false,
      bitWrites: 'read-modify-write',
      cache: '',
      x: 400,
      y: 220,
      wires: [[`${p}_out`]],
    },
    debug(`${p}_out`, z, 'readings (one per meter per poll)', 680, 220, 'false'),
    inject(`${p}_add`, z, 'add spare meter L12-M30', 'device/add', JSON.stringify({ name: 'L12-M30', line: 'feeder 12', unitId: 30, model: 'rtu/simulated-energy-meter', profile: 'basic_power', interval: 5 }), 'json', 150, 180, [`${p}_fleet`]),
    inject(`${p}_off`, z, 'disable L01-M01', 'device/disable', 'L01-M01', 'str', 130, 220, [`${p}_fleet`]),
    inject(`${p}_on`, z, 'enable L01-M01', 'device/enable', 'L01-M01', 'str', 130, 260, [`${p}_fleet`]),
    inject(`${p}_clear`, z, 'clear runtime changes', 'device/clear-overrides', '', 'str', 140, 300, [`${p}_fleet`]),
  );
  return nodes;
}

const outputs = {
  'flows/rtu-pipeline.json': () => [...pipeline(true), ...dashboard()],
  'examples/rtu-pipeline.json': () => [...pipeline(true), ...dashboard()],
  'flows/rtu-pipeline-dashboard-2.json': () => [...pipeline(true), ...dashboard2(comment)],
  'examples/rtu-pipeline-dashboard-2.json': () => [...pipeline(true), ...dashboard2(comment)],
  'examples/rtu-pipeline-without-dashboard.json': () => pipeline(false),
  'examples/rtu-dashboard.json': dashboardExample,
  'examples/rtu-test-mode.json': testModeExample,
  'examples/site-200-meters.json': siteExample,
};

function render(make) {
  return `${JSON.stringify(make(), null, 2)}\n`;
}

if (require.main === module) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [file, make] of Object.entries(outputs)) {
    const target = path.join(root, file);
    const text = render(make);
    if (check) {
      const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
      if (current !== text) {
        console.error(`${file} is out of date: run node flows/src/build-flows.js`);
        stale++;
      }
    } else {
      fs.writeFileSync(target, text);
      console.log(`wrote ${file}`);
    }
  }
  process.exit(stale ? 1 : 0);
}

module.exports = { outputs, render, PLACES, METERS };
