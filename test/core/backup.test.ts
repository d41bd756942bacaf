/**
 * The backup script (lib/host/backup.sh) with the platform's own bash, GNU tar and coreutils, on a
 * small tmpfs standing in for the data volume, while something writes to it as Prosody would.
 */
import { BACKUP_DIR, BACKUP_SCRIPT, OFFSITE_ENV, renderBackupScript, renderOffsiteEnv } from '../../lib/core/backup';
import { COMMON_SCRIPT, HOST_ENV, renderCommonScript, renderHostEnv } from '../../lib/core/host-scripts';
import { BACKUP_STATUS_FILE, VOLUME_MOUNT } from '../../lib/core/paths';
import { resolveSpec } from '../../lib/core/validate';
import { PLATFORMS, platformToolsForFile, platformUnavailable } from '../support/platform';
import { backedUpSpec, minimalSpec } from '../support/specs';
import { describeUnless, RunResult } from '../support/tools';

jest.setTimeout(120000);

const HOST = 'example%2enet';
const UPLOADS = 'upload%2eexample%2enet';

describe.each(Object.values(PLATFORMS))('on $name', (platform) => {
  const image = platformToolsForFile(platform);

  function sh(script: string, input?: string): RunResult {
    return image().run(['bash', '-c', script], { timeoutMs: 100000, input });
  }
  function mustSh(what: string, script: string, input?: string): string {
    const r = sh(script, input);
    if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  /** A fresh, empty data volume of `sizeMiB`, mounted where the droplet mounts it. */
  function freshVolume(sizeMiB: number): void {
    mustSh('a fresh volume', `
      if mountpoint -q ${VOLUME_MOUNT}; then umount -R ${VOLUME_MOUNT}; fi
      mkdir -p ${VOLUME_MOUNT} && mount -t tmpfs -o size=${sizeMiB}m tmpfs ${VOLUME_MOUNT}
      mkdir -p ${VOLUME_MOUNT}/prosody/${HOST}/accounts ${VOLUME_MOUNT}/prosody/${HOST}/archive ${VOLUME_MOUNT}/secrets
      echo 'return { password = "x" };' > ${VOLUME_MOUNT}/prosody/${HOST}/accounts/alice.dat
      echo secret > ${VOLUME_MOUNT}/secrets/turn-shared-secret`);
  }

  /** Runs `xmpp-constructs-backup create`, with `during` running in the background meanwhile. */
  function backup(during = ''): RunResult & { parts: string; archives: string[] } {
    const r = sh(`
      ${during ? `( ${during} ) & writer=$!` : ''}
      rc=0; ${BACKUP_SCRIPT} create || rc=$?
      ${during ? 'kill $writer 2>/dev/null; wait $writer 2>/dev/null' : ''}
      exit $rc`);
    const parts = sh(`find ${BACKUP_DIR} -name '*.part' 2>/dev/null`).stdout.trim();
    const archives = sh(`find ${BACKUP_DIR} -name 'xmpp-*.tar.gz' 2>/dev/null`).stdout.split('\n').filter(Boolean);
    return { ...r, parts, archives };
  }

  describeUnless(platformUnavailable(), `xmpp-constructs-backup create with the bash and GNU tar of ${platform.name}`, () => {
    beforeAll(() => {
      const files: [string, string, string][] = [
        [HOST_ENV, '0644', renderHostEnv(resolveSpec(minimalSpec))],
        [COMMON_SCRIPT, '0644', renderCommonScript()],
        [BACKUP_SCRIPT, '0755', renderBackupScript()],
      ];
      for (const [path, mode, content] of files) mustSh(`writing ${path}`, `mkdir -p "$(dirname ${path})" && cat > ${path} && chmod ${mode} ${path}`, content);
    });
    afterAll(() => {
      sh(`if mountpoint -q ${VOLUME_MOUNT}; then umount -R ${VOLUME_MOUNT}; fi`);
    });

    test('GIVEN a message archive appended to and files removed while the archive is written THEN the backup succeeds, says so, and leaves no partial file', () => {
      freshVolume(256);
      // Small stores first, the large archive last: tmpfs lists the newest entry first, so tar reads
      // the large file while the small ones go, and reaches them after they are gone.
      mustSh('seeding', `
        d=${VOLUME_MOUNT}/prosody/${HOST}/archive
        for i in $(seq 1 300); do echo "item($i);" > $d/gone-$i.list; done
        head -c 48M /dev/urandom | base64 > $d/alice.list`);
      const r = backup(`
        d=${VOLUME_MOUNT}/prosody/${HOST}/archive
        i=1; while :; do echo 'item({ with = "bob"; });' >> $d/alice.list; rm -f $d/gone-$i.list; i=$((i + 1)); sleep 0.005; done`);
      expect(`exit ${r.status}\n${r.stdout}\n${r.stderr}`).toMatch(/^exit 0\n/);
      expect(r.stderr).toContain('file changed as we read it');
      expect(r.stderr).toContain('File removed before we read it');
      expect(r.stdout).toContain('files changed while they were archived');
      expect(r.parts).toBe('');
      expect(r.archives).toHaveLength(1);
      const listing = mustSh('listing', `tar -tzf ${r.archives[0]}`);
      expect(listing).toContain(`./prosody/${HOST}/archive/alice.list`);
      expect(listing).toContain(`./prosody/${HOST}/accounts/alice.dat`);
    });

    test('GIVEN uploads on the volume THEN the archive leaves out the files and their records, and keeps every other store', () => {
      freshVolume(64);
      mustSh('seeding uploads', `
        u=${VOLUME_MOUNT}/prosody/${UPLOADS}
        mkdir -p $u/http_file_share ${VOLUME_MOUNT}/prosody/${HOST}/archive
        head -c 1M /dev/urandom > $u/http_file_share/slot1.bin
        echo 'item({});' > $u/uploads.list; echo 'return { total = 1048576 };' > $u/upload_stats.dat
        # A user named "uploads" keeps a message archive: it is not an upload record.
        echo 'item({});' > ${VOLUME_MOUNT}/prosody/${HOST}/archive/uploads.list`);
      const r = backup();
      expect(`exit ${r.status}\n${r.stderr}`).toMatch(/^exit 0\n/);
      const listing = mustSh('listing', `tar -tzf ${r.archives[0]}`).split('\n');
      expect(listing.filter((e) => e.startsWith(`./prosody/${UPLOADS}/`))).toEqual([`./prosody/${UPLOADS}/`]);
      expect(listing).toEqual(expect.arrayContaining([`./prosody/${HOST}/archive/uploads.list`, './secrets/turn-shared-secret']));
    });

    test('GIVEN tar cannot write the archive (exit 2) THEN the backup fails naming tar\'s exit, and no partial or new archive stays', () => {
      freshVolume(64);
      // The archives' directory on a file system of its own, too small for what is archived.
      mustSh('a tiny archive directory', `
        head -c 8M /dev/urandom > ${VOLUME_MOUNT}/prosody/${HOST}/archive/alice.list
        mkdir -p ${BACKUP_DIR} && mount -t tmpfs -o size=1m tmpfs ${BACKUP_DIR}`);
      const r = backup();
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/FAILED: step "backup": tar exited 2/);
      expect(r.parts).toBe('');
      expect(r.archives).toEqual([]);
    });

    test('GIVEN a failure inside the script\'s functions THEN it names the step it failed in', () => {
      freshVolume(16);
      // The archives' directory cannot be made: a file is in its way.
      mustSh('a file in the way', `touch ${BACKUP_DIR}`);
      const r = backup();
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/xmpp-constructs: FAILED: step "backup" \(line \d+\)/);
    });

    test('GIVEN too little free space for the archive THEN the backup refuses, saying how much it needs and has, and writes nothing', () => {
      freshVolume(32);
      mustSh('seeding', `head -c 26M /dev/urandom > ${VOLUME_MOUNT}/prosody/${HOST}/archive/alice.list`);
      const r = backup();
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/FAILED: backup refused: the archive may take up to 26 MiB, and [0-9]+ MiB of the data volume are free; writing it could leave less than 10% \(3 MiB\) for Prosody/);
      expect(r.stderr).toMatch(/WARNING: the data volume \/srv\/xmpp-data is 8[0-9]% full/);
      expect(r.parts).toBe('');
      expect(r.archives).toEqual([]);
    });

    test('GIVEN a volume and a history of several GiB THEN sizes are counted in whole bytes, not in the exponent notation mawk prints', () => {
      // tmpfs takes its size as a limit, and a sparse file has the size it claims: neither uses memory.
      freshVolume(300 * 1024);
      mustSh('a large history', `truncate -s 280G ${VOLUME_MOUNT}/prosody/${HOST}/archive/alice.list`);
      const r = backup();
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/FAILED: backup refused: the archive may take up to 286720 MiB, and 307199 MiB of the data volume are free; writing it could leave less than 10% \(30720 MiB\) for Prosody/);
    });

    test('GIVEN a volume above 80% full THEN a successful backup warns in its log', () => {
      freshVolume(32);
      // Uploads fill it; they are not archived, so the archive itself fits.
      mustSh('seeding uploads', `mkdir -p ${VOLUME_MOUNT}/prosody/${UPLOADS}/http_file_share && head -c 26M /dev/urandom > ${VOLUME_MOUNT}/prosody/${UPLOADS}/http_file_share/big.bin`);
      const r = backup();
      expect(`exit ${r.status}\n${r.stderr}`).toMatch(/^exit 0\n/);
      expect(r.archives).toHaveLength(1);
      expect(r.stderr).toMatch(/WARNING: the data volume \/srv\/xmpp-data is 8[0-9]% full \(2[0-9] MiB of 32 MiB\)/);
    });

    test('GIVEN a volume with room to spare THEN the backup does not warn', () => {
      freshVolume(64);
      const r = backup();
      expect(`exit ${r.status}\n${r.stderr}`).toBe('exit 0\n');
    });
  });

  describeUnless(platformUnavailable(), `xmpp-constructs-backup restore with the Lua of ${platform.name}: a list cut short by a live backup`, () => {
    const PROVISION = '/usr/local/sbin/xmpp-constructs-provision';
    beforeAll(() => {
      const files: [string, string, string][] = [
        [HOST_ENV, '0644', renderHostEnv(resolveSpec(minimalSpec))],
        [COMMON_SCRIPT, '0644', renderCommonScript()],
        [BACKUP_SCRIPT, '0755', renderBackupScript()],
        // Provisioning after a restore is another test's subject: here it only says it ran.
        [PROVISION, '0755', '#!/bin/sh\necho provisioned\n'],
      ];
      for (const [path, mode, content] of files) mustSh(`writing ${path}`, `mkdir -p "$(dirname ${path})" && cat > ${path} && chmod ${mode} ${path}`, content);
    });
    afterAll(() => {
      sh(`rm -f ${PROVISION}; if mountpoint -q ${VOLUME_MOUNT}; then umount -R ${VOLUME_MOUNT}; fi`);
    });

    test('GIVEN an archive whose message list ends in an item cut short THEN the restore keeps every whole item, drops the cut one and the stale index, and leaves whole lists alone', () => {
      freshVolume(64);
      const whole = 'item({ ["key"] = "1"; ["with"] = "bob@example.net"; ["value"] = "a ); tricky\\nbody"; });\nitem({ ["key"] = "2"; });\n';
      const out = mustSh('an archive with a list cut short, restored', `
        d=${VOLUME_MOUNT}/prosody/${HOST}/archive2; mkdir -p $d
        printf '%s' '${whole}' > $d/alice.list
        printf '%s' '${whole}item({ ["key"] = "3"; ["with"] = "bo' > $d/bob.list
        printf 'index' > $d/bob.lidx
        cd ${VOLUME_MOUNT} && tar -czf /tmp/cut.tar.gz . && cd /
        ${BACKUP_SCRIPT} restore /tmp/cut.tar.gz
        echo "alice=$(sha256sum < $d/alice.list)"; echo "bob=$(cat $d/bob.list)"; ls $d`);
      expect(out).toMatch(/archive2\/bob\.list: an item cut short by the backup was dropped \(\d+ bytes\); the items before it are kept/);
      expect(out).not.toMatch(/alice\.list: an item cut short/);
      expect(out).toContain(`bob=${whole.trimEnd()}`);
      expect(out).toContain('provisioned');
      expect(out).not.toContain('bob.lidx');
      expect(out.match(/alice=(\S+)/)![1]).toBe(mustSh('the whole list\'s checksum', 'sha256sum', whole).split(' ')[0]);
    });
  });

  describeUnless(platformUnavailable(), `xmpp-constructs-backup status with the bash of ${platform.name}: the off-host backups' freshness`, () => {
    const RECORD = `${VOLUME_MOUNT}/.offsite-backup`;
    const FRESH = '/var/www/xmpp-constructs/fresh/backup';
    beforeAll(() => {
      const files: [string, string, string][] = [
        [HOST_ENV, '0644', renderHostEnv(resolveSpec(backedUpSpec))],
        [COMMON_SCRIPT, '0644', renderCommonScript()],
        [BACKUP_SCRIPT, '0755', renderBackupScript()],
        [OFFSITE_ENV, '0644', renderOffsiteEnv(resolveSpec(backedUpSpec) as Parameters<typeof renderOffsiteEnv>[0])],
      ];
      for (const [path, mode, content] of files) mustSh(`writing ${path}`, `mkdir -p "$(dirname ${path})" && cat > ${path} && chmod ${mode} ${path}`, content);
    });
    afterAll(() => {
      sh(`rm -f ${OFFSITE_ENV}; if mountpoint -q ${VOLUME_MOUNT}; then umount -R ${VOLUME_MOUNT}; fi`);
    });

    /** Publish with `record` (undefined: none yet) and say what is served: the status, and whether the fresh copy exists (both readable by nginx). */
    function publish(record: string | undefined): { status: string; fresh: boolean } {
      freshVolume(16);
      const out = mustSh('publishing', `
        ${record === undefined ? `rm -f ${RECORD}` : `printf '%s' '${record}' > ${RECORD}`}
        ${BACKUP_SCRIPT} status
        cat ${BACKUP_STATUS_FILE}; if [ -f ${FRESH} ]; then echo FRESH; fi
        stat -c 'modes %a' ${BACKUP_STATUS_FILE} $(ls ${FRESH} 2>/dev/null) | sort -u`);
      // Both are served by nginx, which is not root: readable by all, or the check sees 403.
      expect(out).toMatch(/modes 644\n$/);
      const body = out.replace(/modes 644\n$/, '');
      return { status: body.replace(/FRESH\n$/, ''), fresh: body.endsWith('FRESH\n') };
    }
    const ago = (hours: number) => `state ok\nlast-success ${Math.floor(Date.now() / 1000) - hours * 3600}\nlast-attempt 0\nsnapshot 0123abcd\ndetail \n`;

    test.each([
      ['a backup an hour ago', ago(1), true],
      ['a backup 25 hours ago (the timer\'s day and its random delay)', ago(25), true],
      ['a backup 27 hours ago: a day was missed', ago(27), false],
      ['a failed last run', 'state failed\nlast-success 1\nlast-attempt 2\nsnapshot -\ndetail step "backing up" failed\n', false],
      ['a refused last run', 'state refused\nlast-success 0\nlast-attempt 2\nsnapshot -\ndetail the repository holds 3 snapshots of another data volume\n', false],
    ])('GIVEN %s THEN the status is published as recorded, and the fresh copy the uptime check reads exists only while the backup is fresh', (_, record, fresh) => {
      expect(publish(record)).toEqual({ status: record, fresh });
    });

    test('GIVEN no backup yet THEN the status says so and there is no fresh copy', () => {
      expect(publish(undefined)).toEqual({ status: 'state never\nlast-success 0\nlast-attempt 0\nsnapshot -\ndetail no off-host backup yet\n', fresh: false });
    });
  });
});
