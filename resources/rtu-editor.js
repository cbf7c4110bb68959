// Editor code shared by the node dialogs. Node-RED serves this folder at
// resources/@energy-rtu/node-red-energy-rtu/; a node html that uses it loads it before
// its own scripts. It defines RTU_EDITOR once, however many node files load it.
(function (root) {
  'use strict';
  if (root.RTU_EDITOR) return;

  // ---- validators and dialog behaviour ---------------------------------------------

  /**
   * Validator of a typedInput field: a value typed in the dialog (type 'str', and
   * 'num' where listed in opts.literal) gets its own check; an env variable or
   * context key name must be given unless the field is optional.
   * opts: { fallback: type when none is stored ('str'), literal: ['str'],
   *         optional: false, config: true for a config node's dialog, check(v) }
   */
  function typedValue(typeField, opts) {
    opts = opts || {};
    var literal = opts.literal || ['str'];
    var prefix = opts.config ? '#node-config-input-' : '#node-input-';
    return function (v) {
      var t = (typeof $ === 'function' && $(prefix + typeField).val()) || this[typeField] || opts.fallback || 'str';
      if (literal.indexOf(t) >= 0) return opts.check ? opts.check.call(this, v) : true;
      return !!opts.optional || String(v === undefined || v === null ? '' : v).trim() !== '';
    };
  }

  /** A URL typed in the dialog must look like one; a variable or context key name must be given. */
  function urlValue(typeField, optional) {
    return typedValue(typeField, {
      optional: optional,
      check: function (v) { return (optional && !v) || /^https?:\/\/.+/.test(v || ''); }
    });
  }

  /** The settings every alert notifier (discord, telegram) has, plus the node's own. */
  function notifierDefaults(own) {
    var defaults = {
      name: { value: '' },
      title: { value: '' },
      template: { value: '' },
      timeZone: { value: '' },
      groupWindow: { value: 2, validate: RED.validators.number() },
      minSeverity: { value: 'info' },
      notifyRaised: { value: true },
      notifyCleared: { value: true },
      notifyAcknowledged: { value: true },
      testTarget: { value: 'channel' },
      persist: { value: true }
    };
    for (var k in own) defaults[k] = own[k];
    return defaults;
  }

  /** Rows shown only while a checkbox is ticked: shown or hidden now and on every change. */
  function showWhenChecked(checkbox, rows) {
    var show = function () { $(rows).toggle($(checkbox).is(':checked')); };
    $(checkbox).on('change', show);
    show();
  }

  /**
   * oneditresize of a dialog with an editable list: the list gets the height the
   * other rows leave. opts: { row: class of the list's own row, min, margin,
   * visibleOnly: count only the rows shown }.
   */
  function fitList(size, list, opts) {
    var height = size.height;
    $('#dialog-form>div:not(.' + opts.row + ')').each(function () {
      if (!opts.visibleOnly || $(this).is(':visible')) height -= $(this).outerHeight(true);
    });
    $(list).editableList('height', Math.max(opts.min, height - opts.margin));
  }

  // ---- markup shared by several dialogs -----------------------------------------

  function row(ns, field, icon, input, cls) {
    return '<div class="form-row' + (cls ? ' ' + cls : '') + '">\n' +
      '    <label for="node-input-' + field + '"><i class="fa fa-' + icon + '"></i> <span data-i18n="' + ns + '.label.' + field + '"></span></label>\n' +
      '    ' + input + '\n' +
      '  </div>';
  }
  function options(ns, group, values) {
    return values.map(function (v) { return '<option value="' + v + '" data-i18n="' + ns + '.' + group + '.' + v + '"></option>'; }).join('\n      ');
  }
  function select(ns, field, values, style) {
    return '<select id="node-input-' + field + '" style="' + style + '">\n      ' + options(ns, field, values) + '\n    </select>';
  }

  var SECTIONS = {
    // Alert notifiers (discord, telegram): how a message reads.
    'notifier-message': function (ns) {
      return [
        row(ns, 'title', 'header', '<input type="text" id="node-input-title" data-i18n="[placeholder]' + ns + '.hint.title">'),
        row(ns, 'template', 'file-text-o', '<input type="text" id="node-input-template" placeholder="{icon} {STATE} {severity} · {text} · {time}">'),
        row(ns, 'timeZone', 'clock-o', '<input type="text" id="node-input-timeZone" data-i18n="[placeholder]' + ns + '.hint.timeZone">')
      ].join('\n  ');
    },
    // Alert notifiers: which alerts are sent, and where in test mode.
    'notifier-filters': function (ns) {
      var states = ['raised', 'cleared', 'acknowledged'].map(function (s) {
        var id = 'node-input-notify' + s.charAt(0).toUpperCase() + s.slice(1);
        return '<label for="' + id + '" style="width: auto"><input type="checkbox" id="' + id + '" style="width: auto"> <span data-i18n="' + ns + '.state.' + s + '"></span></label>';
      });
      var severities = ['info', 'warning', 'minor', 'major', 'critical'].map(function (s) { return '<option value="' + s + '">' + s + '</option>'; }).join('');
      return [
        row(ns, 'groupWindow', 'compress', '<input type="text" id="node-input-groupWindow" style="width: 80px"> s'),
        row(ns, 'minSeverity', 'filter', '<select id="node-input-minSeverity">\n      ' + severities + '\n    </select>'),
        '<div class="form-row">\n    <label><i class="fa fa-bell"></i> <span data-i18n="' + ns + '.label.states"></span></label>\n    ' + states.join('\n    ') + '\n  </div>',
        row(ns, 'testTarget', 'flask', '<select id="node-input-testTarget" style="width: calc(100% - 110px)">\n      ' +
          '<option value="channel" data-i18n="' + ns + '.testTarget.channel"></option>\n      ' +
          '<option value="dry-run" data-i18n="' + ns + '.testTarget.dryRun"></option>\n    </select>')
      ].join('\n  ');
    },
    // Alert notifiers: the queue and the API they post to.
    'notifier-delivery': function (ns) {
      return [
        row(ns, 'persist', 'save', '<input type="checkbox" id="node-input-persist" style="width: auto">'),
        row(ns, 'apiBase', 'globe', '<input type="text" id="node-input-apiBase">')
      ].join('\n  ');
    },
    // Modbus TCP endpoints (line, gateway): host and port, each typed or from an env variable.
    // args: the dialog's input prefix (node-input, node-config-input), a class for both rows.
    'host-port': function (ns, prefix, cls) {
      return [['host', 'globe'], ['port', 'plug']].map(function (f) {
        var id = prefix + '-' + f[0];
        return '<div class="form-row' + (cls ? ' ' + cls : '') + '">\n' +
          '    <label for="' + id + '"><i class="fa fa-' + f[1] + '"></i> <span data-i18n="' + ns + '.label.' + f[0] + '"></span></label>\n' +
          '    <input type="text" id="' + id + '" style="width: 70%">\n' +
          '    <input type="hidden" id="' + id + 'Type">\n' +
          '  </div>';
      }).join('\n  ');
    },
    // TLS client keys (http out, mqtt broker), PEM texts. args: input prefix, a class for the rows.
    'tls-keys': function (ns, prefix, cls) {
      var pem = 'data-i18n="[placeholder]' + ns + '.placeholder.pem"';
      return [
        ['tlsCa', 'certificate', '<textarea id="' + prefix + '-tlsCa" rows="2" style="width: 70%; font-family: monospace" ' + pem + '></textarea>'],
        ['tlsCert', 'certificate', '<textarea id="' + prefix + '-tlsCert" rows="2" style="width: 70%; font-family: monospace" ' + pem + '></textarea>'],
        ['tlsKey', 'key', '<input type="password" id="' + prefix + '-tlsKey" autocomplete="off" ' + pem + '>'],
        ['tlsPassphrase', 'lock', '<input type="password" id="' + prefix + '-tlsPassphrase" autocomplete="new-password">']
      ].map(function (f) {
        return '<div class="form-row' + (cls ? ' ' + cls : '') + '">\n' +
          '    <label for="' + prefix + '-' + f[0] + '"><i class="fa fa-' + f[1] + '"></i> <span data-i18n="' + ns + '.label.' + f[0] + '"></span></label>\n' +
          '    ' + f[2] + '\n' +
          '  </div>';
      }).join('\n  ');
    },
    // A checkbox under the labels, its text beside it. args: input prefix, field, a class for the row.
    'check': function (ns, prefix, field, cls) {
      var id = prefix + '-' + field;
      return '<div class="form-row' + (cls ? ' ' + cls : '') + '">\n' +
        '    <label>&nbsp;</label>\n' +
        '    <input type="checkbox" id="' + id + '" style="width: auto; margin: 0 5px 0 0">\n' +
        '    <label for="' + id + '" style="width: auto" data-i18n="' + ns + '.label.' + field + '"></label>\n' +
        '  </div>';
    },
    // Modbus devices (poller, device table): how bit points are written, the register cache, raw blocks.
    'modbus-device-options': function (ns) {
      return [
        row(ns, 'bitWrites', 'toggle-on', '<select id="node-input-bitWrites" style="width: 70%">\n      ' +
          '<option value="read-modify-write" data-i18n="' + ns + '.bitWrites.readModifyWrite"></option>\n      ' +
          '<option value="mask" data-i18n="' + ns + '.bitWrites.mask"></option>\n    </select>'),
        row(ns, 'cache', 'database', '<input type="text" id="node-input-cache">'),
        SECTIONS.check(ns, 'node-input', 'includeRaw')
      ].join('\n  ');
    },
    // Publishers (http out, mqtt out): sending every n seconds instead of every reading.
    'publisher-interval': function (ns, cls) {
      return [
        row(ns, 'interval', 'clock-o', '<input type="text" id="node-input-interval" style="width: 70px"> s\n    <span class="form-tips" data-i18n="' + ns + '.tip.interval"></span>'),
        row(ns, 'intervals', 'list', '<input type="text" id="node-input-intervals" placeholder="meter1=10, pv_*=60">'),
        row(ns, 'aggregate', 'compress', select(ns, 'aggregate', ['latest', 'avg', 'min', 'max'], 'width: 70%'), cls)
      ].join('\n  ');
    },
    // Publishers: the disk queue and the send rate.
    'publisher-queue': function (ns) {
      return [
        row(ns, 'queueDir', 'folder-open', '<input type="text" id="node-input-queueDir" placeholder="rtu-queues">'),
        row(ns, 'queueSizeMb', 'hdd-o', '<input type="text" id="node-input-queueSizeMb" style="width: 70px"> MB'),
        row(ns, 'fsync', 'floppy-o', select(ns, 'fsync', ['interval', 'always', 'never'], 'width: 70%')),
        row(ns, 'maxRate', 'tachometer', '<input type="text" id="node-input-maxRate" style="width: 70px"> <span data-i18n="' + ns + '.unit.perSecond"></span>')
      ].join('\n  ');
    }
  };

  var MARKER = /<div data-rtu-section="([\w-]+)"(?: data-rtu-args="([\w -]+)")?><\/div>/g;

  /**
   * The template text with every section marker replaced by its rows, labels from the
   * catalogue of `type`; `own` adds sections that repeat within one dialog only.
   */
  function expandMarkup(type, html, own) {
    return html.replace(MARKER, function (marker, name, args) {
      var section = (own && own[name]) || SECTIONS[name];
      if (!section) throw new Error('rtu-editor: no section ' + name);
      return section.apply(null, [type].concat(args ? args.split(' ') : []));
    });
  }

  /** Fields as typed inputs, each keeping its type in the hidden input `<field>Type`. prefix: node-input unless given. */
  function typedInputs(types, fields, prefix) {
    prefix = '#' + (prefix || 'node-input') + '-';
    fields.forEach(function (f) { $(prefix + f).typedInput({ types: types, typeField: prefix + f + 'Type' }); });
  }

  /** Host and port of a 'host-port' section as typed inputs: a value, or an env variable per site. */
  function hostPortInputs(prefix) {
    typedInputs(['str', 'env'], ['host'], prefix);
    typedInputs(['num', 'env'], ['port'], prefix);
  }

  /** Expands the section markers of a node's edit template in place (before any dialog is built from it). */
  function expandTemplate(type, own) {
    if (typeof document === 'undefined') return;
    var template = document.querySelector('script[data-template-name="' + type + '"]');
    if (template) template.textContent = expandMarkup(type, template.textContent, own);
  }

  root.RTU_EDITOR = {
    typedValue: typedValue,
    urlValue: urlValue,
    notifierDefaults: notifierDefaults,
    typedInputs: typedInputs,
    hostPortInputs: hostPortInputs,
    fitList: fitList,
    showWhenChecked: showWhenChecked,
    expandMarkup: expandMarkup,
    expandTemplate: expandTemplate
  };
})(typeof window !== 'undefined' ? window : this);
