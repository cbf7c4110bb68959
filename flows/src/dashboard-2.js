// The RTU tab on FlowFuse Dashboard 2 (@flowfuse/node-red-dashboard): the same views as the
// node-red-dashboard tab, fed by the same rtu-dashboard models, built from ui-template widgets
// (dashboard-2/*.vue). Selection is per viewer: the device table is sent to everyone, the detail
// of a device only to the browser that asked for it (msg._client, ui-template accepting client
// constraints in ui-base).
'use strict';
const fs = require('fs');
const path = require('path');

const vue = (name) => fs.readFileSync(path.join(__dirname, 'dashboard-2', name), 'utf8');

/** The pipeline tab's link nodes point at these ids, as on the node-red-dashboard tab. */
const LINK_IN = 'rtu_db_from_alerts';
const LINK_OUT = 'rtu_db_to_alerts';

function widget(id, z, name, group, order, file, wires, x, y) {
  return {
    id,
    type: 'ui-template',
    z,
    group,
    page: '',
    ui: '',
    name,
    order,
    width: 0,
    height: 0,
    head: '',
    format: vue(file),
    storeOutMessages: true,
    passthru: false,
    resendOnRefresh: true,
    templateScope: 'local',
    className: '',
    x,
    y,
    wires: [wires],
  };
}

function group(id, name, page, order, width, showTitle = true) {
  return { id, type: 'ui-group', name, page, width, height: 1, order, showTitle, className: '', visible: 'true', disabled: 'false', groupType: 'default' };
}

/** The dashboard tab for Dashboard 2; `comment` is the shared comment-node helper. */
function dashboard2(comment) {
  const z = 'rtu_db2_tab';
  const p = 'rtu_db2';
  return [
    {
      id: z,
      type: 'tab',
      label: 'RTU dashboard 2',
      info:
        'The RTU page on FlowFuse Dashboard 2 (http://127.0.0.1:1880/dashboard/rtu): test-mode state at the top, device health table, live values, a trend of any point, latest errors, ' +
        'alerts with acknowledge, lines, queues, system figures, and the test-mode panel with Verify configuration. Each browser selects its own device and trend. ' +
        'The dashboard feed reads every deployed device by itself; alerts come from the pipeline tab through the link nodes. Needs @flowfuse/node-red-dashboard.',
    },
    {
      id: `${p}_base`,
      type: 'ui-base',
      name: 'RTU',
      path: '/dashboard',
      appIcon: '',
      includeClientData: true,
      acceptsClientConfig: ['ui-notification', 'ui-control', 'ui-template'],
      showPathInSidebar: false,
      headerContent: 'page',
      navigationStyle: 'default',
      titleBarStyle: 'default',
      showReconnectNotification: true,
      notificationDisplayTime: 1,
      showDisconnectNotification: true,
      allowInstall: false,
    },
    {
      id: `${p}_theme`,
      type: 'ui-theme',
      name: 'RTU theme',
      colors: { surface: '#ffffff', primary: '#0d74ce', bgPage: '#eeeeee', groupBg: '#ffffff', groupOutline: '#cccccc' },
      sizes: { density: 'compact', pagePadding: '8px', groupGap: '8px', groupBorderRadius: '4px', widgetGap: '8px' },
    },
    {
      id: `${p}_page`,
      type: 'ui-page',
      name: 'RTU',
      ui: `${p}_base`,
      path: '/rtu',
      icon: 'gauge',
      layout: 'grid',
      theme: `${p}_theme`,
      breakpoints: [
        { name: 'Default', px: 0, cols: 3 },
        { name: 'Tablet', px: 576, cols: 6 },
        { name: 'Small Desktop', px: 768, cols: 9 },
        { name: 'Desktop', px: 1024, cols: 12 },
      ],
      order: 1,
      className: '',
      visible: 'true',
      disabled: 'false',
    },
    group(`${p}_g_strip`, 'Mode', `${p}_page`, 1, 12, false),
    group(`${p}_g_devices`, 'Devices', `${p}_page`, 2, 12),
    group(`${p}_g_overview`, 'Alerts, lines, queues, system', `${p}_page`, 3, 6),
    group(`${p}_g_test`, 'Test mode', `${p}_page`, 4, 6),
    comment(`${p}_c1`, z, 'dashboard feed -> widgets; widget actions -> feed (the detail answers one viewer)', '', 300, 40),
    {
      id: `${p}_feed`,
      type: 'rtu-dashboard',
      z,
      name: 'dashboard feed',
      refresh: 2,
      keyPoints: '',
      trendDevice: '',
      trendPoint: '',
      readTimeout: 10,
      x: 360,
      y: 160,
      wires: [[`${p}_devices`], [`${p}_overview`], [], [LINK_OUT]],
    },
    widget(`${p}_devices`, z, 'device health table', `${p}_g_devices`, 1, 'devices.vue', [`${p}_feed`], 640, 120),
    widget(`${p}_overview`, z, 'alerts, lines, queues, system', `${p}_g_overview`, 1, 'overview.vue', [`${p}_feed`], 650, 180),
    { id: LINK_IN, type: 'link in', z, name: 'alerts from pipeline', links: ['rtu_pl_to_dash'], x: 135, y: 160, wires: [[`${p}_feed`]] },
    { id: LINK_OUT, type: 'link out', z, name: 'acknowledge to alerts', mode: 'link', links: ['rtu_pl_from_dash'], x: 615, y: 240, wires: [] },
    comment(`${p}_c2`, z, 'test-mode panel and mode strip <-> test-mode node', '', 200, 320),
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
      x: 200,
      y: 380,
      wires: [[`${p}_tm_panel`, `${p}_strip`]],
    },
    widget(`${p}_tm_panel`, z, 'test-mode panel', `${p}_g_test`, 1, 'test-mode.vue', [`${p}_tm`], 460, 380),
    widget(`${p}_strip`, z, 'test-mode strip', `${p}_g_strip`, 1, 'status-strip.vue', [], 450, 430),
  ];
}

module.exports = { dashboard2 };
