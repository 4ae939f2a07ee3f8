// XEP-0045 §10.2 / §15.5.3: muc#roomconfig_roomname, _roomdesc, _lang, _persistentroom and
// _publicroom; §6.4 disco features muc_persistent/muc_temporary and muc_public/muc_hidden,
// and the muc#roominfo description and language (XEP-0128).
import type { FormField } from '../data-form.js';
import type { Feature } from './feature.js';
import { booleanField, readBoolean } from './boolean-field.js';

function text(name: string, label: string, value: string): FormField {
  return { var: name, type: 'text-single', label, values: [value] };
}

/** Name, description, language, persistence and visibility of the room. */
export const roomProfile: Feature = {
  name: 'room-profile',
  configFields(room) {
    const c = room.config;
    return [
      text('muc#roomconfig_roomname', 'Title', c.name),
      text('muc#roomconfig_roomdesc', 'Description', c.description),
      text('muc#roomconfig_lang', 'Language tag for room (e.g. \'en\', \'de\', \'fr\' etc.)', c.language),
      booleanField('muc#roomconfig_persistentroom', 'Persistent (room should remain even when it is empty)', c.persistent),
      booleanField('muc#roomconfig_publicroom', 'Include room information in public lists', c.public),
    ];
  },
  readConfig(form, next) {
    for (const [name, key] of [
      ['muc#roomconfig_roomname', 'name'],
      ['muc#roomconfig_roomdesc', 'description'],
      ['muc#roomconfig_lang', 'language'],
    ] as const) {
      const values = form.values.get(name);
      if (values !== undefined) next[key] = (values[0] ?? '').trim();
    }
    return (
      readBoolean(form, 'muc#roomconfig_persistentroom', (v) => (next.persistent = v)) ??
      readBoolean(form, 'muc#roomconfig_publicroom', (v) => (next.public = v))
    );
  },
  configApplied(t, before) {
    // An empty room made temporary has no last occupant to wait for (§7.14): it closes now.
    if (!before.persistent || t.room.config.persistent || t.room.occupants.size > 0) return;
    t.log('info', 'empty room made temporary');
    t.destroy();
  },
  discoFeatures(room) {
    return [room.config.public ? 'muc_public' : 'muc_hidden', room.config.persistent ? 'muc_persistent' : 'muc_temporary'];
  },
  roomInfoFields(room) {
    return [
      { var: 'muc#roominfo_description', label: 'Description', values: [room.config.description] },
      { var: 'muc#roominfo_lang', label: 'Language of discussion', values: [room.config.language] },
    ];
  },
};
