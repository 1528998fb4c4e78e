// Picks the jail backend named by host.json's jails.backend.
import type { HostConfig } from '../config/host-config.ts';
import type { JailBackend } from './backend.ts';
import { bastilleBackend } from './bastille.ts';
import { dirBackend } from './dir.ts';
import { linuxBackend } from './linux.ts';

export function createBackend(jails: HostConfig['jails']): JailBackend {
  switch (jails.backend) {
    case 'dir':
      return dirBackend(jails.root, jails.user);
    case 'linux':
      return linuxBackend({
        root: jails.root,
        user: jails.user,
        template: jails.template,
        init: jails.init,
        bodies: jails.bodies,
      });
    case 'bastille':
      return bastilleBackend({
        conf: jails.bastilleConf,
        root: jails.root,
        template: jails.template,
        release: jails.release,
        ip: jails.ip,
        interface: jails.interface,
        bodies: jails.bodies,
      });
  }
}
