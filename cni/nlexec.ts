import { type ChildProcess, spawn } from 'node:child_process';
import { getSystemErrorName } from 'node:util';
import { CniCode, CniError } from './errors.js';
import { encode, firstError, type NlRequest } from './netlink.js';

/** Where the netlink helper and the resident launcher are interpreted; perl-base is Essential on Debian. */
export const PERL = '/usr/bin/perl';

/** The descriptor the helper holds the peer namespace on while a request runs. */
export const PEER_NS_FD = 100;

/** setns(2) by architecture: Node cannot call it, and perl-base has no syscall.ph. */
const SETNS: Partial<Record<string, number>> = { x64: 308, arm64: 268 };

/**
 * The helper: a module-light perl process (Node has no netlink sockets) that sends rtnetlink
 * requests built in netlink.ts and returns the kernel's replies, so an ADD in the resident plugin
 * (`klab cni serve`) starts no process.
 * Request: u32 length, the namespace to open the socket in (path or empty), \0, the namespace
 * to hold as fd PEER_NS_FD (path or empty), \0, then netlink messages, each sent and answered
 * before the next; the first failure stops the rest. Reply: u32 length, then "0" and the
 * replies, or "1" and why the helper could not run them.
 */
function script(setns: number): string {
  return String.raw`
use strict;
use POSIX ();
binmode STDIN;
binmode STDOUT;
my $NEWNET = 0x40000000;
open(my $home, '<', '/proc/self/ns/net') or die "opening /proc/self/ns/net: $!\n";
sub enter { syscall(${setns}, fileno($_[0]), $NEWNET) == 0 }
sub take {
  my ($n) = @_;
  my $buf = '';
  while (length($buf) < $n) {
    my $r = sysread(STDIN, $buf, $n - length($buf), length($buf));
    exit 0 unless $r;
  }
  return $buf;
}
sub answer {
  my $out = pack('V', length $_[0]) . $_[0];
  while (length $out) {
    my $w = syswrite(STDOUT, $out);
    exit 1 unless defined $w;
    substr($out, 0, $w) = '';
  }
}
sub run {
  my ($sockNs, $peerNs, $msgs) = @_;
  my $hold;
  if ($peerNs ne '') {
    open($hold, '<', $peerNs) or die "opening $peerNs: $!\n";
    defined POSIX::dup2(fileno($hold), ${PEER_NS_FD}) or die "dup2: $!\n";
  }
  my $s;
  if ($sockNs ne '') {
    open(my $ns, '<', $sockNs) or die "opening $sockNs: $!\n";
    enter($ns) or die "entering $sockNs: $!\n";
  }
  my $made = socket($s, 16, 3, 0);
  my $why = $!;
  if ($sockNs ne '' && !enter($home)) { exit 1 }
  $made or die "netlink socket: $why\n";
  my $replies = '';
  for (my $at = 0; $at < length $msgs; ) {
    my ($len, undef, undef, $seq) = unpack('L S S L', substr($msgs, $at, 16));
    defined send($s, substr($msgs, $at, $len), 0) or die "netlink send: $!\n";
    $at += $len;
    my ($done, $failed) = (0, 0);
    while (!$done) {
      defined recv($s, my $buf, 65536, 0) or die "netlink receive: $!\n";
      for (my $p = 0; $p + 16 <= length $buf; ) {
        my ($l, $type, undef, $sq) = unpack('L S S L', substr($buf, $p, 16));
        last if $l < 16;
        if ($sq == $seq) {
          $replies .= substr($buf, $p, $l);
          if ($type == 2) { $done = 1; $failed = unpack('l', substr($buf, $p + 16, 4)) != 0 }
        }
        $p += ($l + 3) & ~3;
      }
    }
    last if $failed;
  }
  close($s);
  return $replies;
}
for (;;) {
  my ($len) = unpack('V', take(4));
  my ($sockNs, $peerNs, $msgs) = unpack('Z* Z* a*', take($len));
  my $replies = eval { run($sockNs, $peerNs, $msgs) };
  # Also after a failure: a held descriptor would keep the pod's namespace alive.
  POSIX::close(${PEER_NS_FD});
  answer(defined $replies ? "0$replies" : "1$@");
}
`;
}

export class NetlinkError extends CniError {
  constructor(
    readonly where: string,
    readonly index: number,
    readonly errno: number,
    request: string,
  ) {
    super(CniCode.Internal, `${where}: ${request}: ${getSystemErrorName(-errno)}`);
  }
}

interface Pending {
  resolve: (replies: Buffer) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** A kernel answers netlink in microseconds; a helper silent this long is stuck, and every later request would queue behind it. */
const ANSWER_TIMEOUT_MS = 10_000;

/** One helper per process, started on first use and again after it dies. */
class Helper {
  answerTimeoutMs = ANSWER_TIMEOUT_MS;
  private child: ChildProcess | undefined;
  private pending: Pending[] = [];
  private buf = Buffer.alloc(0);
  private stuck = false;

  private start(): ChildProcess {
    const setns = SETNS[process.arch];
    if (setns === undefined)
      throw new CniError(CniCode.Internal, `netlink helper: no setns number for ${process.arch}`);
    const child = spawn(PERL, ['-e', script(setns)], { stdio: ['pipe', 'pipe', 'inherit'] });
    child.stdout?.on('data', (d: Buffer) => this.read(d));
    child.stdin?.on('error', () => undefined);
    const gone = (why: string) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.buf = Buffer.alloc(0);
      const reason = this.stuck ? `gave no answer for ${this.answerTimeoutMs} ms and was killed` : why;
      this.stuck = false;
      for (const p of this.pending.splice(0)) {
        clearTimeout(p.timer);
        p.reject(new CniError(CniCode.Internal, `netlink helper ${reason}`));
      }
    };
    child.on('error', (err) => gone(`cannot run ${PERL}: ${err.message}`));
    child.on('exit', (code, signal) => gone(`exited (${signal ?? code})`));
    this.child = child;
    return child;
  }

  private read(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32LE(0);
      if (this.buf.length < 4 + len) return;
      const frame = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      const p = this.pending.shift();
      if (!p) continue;
      clearTimeout(p.timer);
      if (frame[0] === 0x30) p.resolve(Buffer.from(frame.subarray(1)));
      else p.reject(new CniError(CniCode.Internal, frame.subarray(1).toString().trim()));
    }
    this.idle();
  }

  /** An idle helper must not keep the plugin executable from exiting. */
  private idle(): void {
    const busy = this.pending.length > 0;
    const handles = [this.child, this.child?.stdout, this.child?.stdin] as (
      { ref(): void; unref(): void } | null | undefined
    )[];
    for (const h of handles) {
      if (busy) h?.ref();
      else h?.unref();
    }
  }

  /** Ends the helper and waits for it, so a short-lived caller leaves no process behind. */
  async close(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.ref();
    child.stdin?.end();
    await exited;
  }

  send(sockNs: string, peerNs: string, msgs: Buffer): Promise<Buffer> {
    const child = this.child ?? this.start();
    const body = Buffer.concat([Buffer.from(`${sockNs}\0${peerNs}\0`), msgs]);
    const head = Buffer.alloc(4);
    head.writeUInt32LE(body.length);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.stuck = true;
        child.kill('SIGKILL');
      }, this.answerTimeoutMs);
      timer.unref();
      this.pending.push({ resolve, reject, timer });
      this.idle();
      child.stdin?.write(Buffer.concat([head, body]));
    });
  }
}

const helper = new Helper();

export const closeNetlink = (): Promise<void> => helper.close();

/** How long a request may wait for the helper before it is killed (10 s; tests shorten it). */
export function setNetlinkAnswerTimeout(ms: number): void {
  helper.answerTimeoutMs = ms;
}

export interface Where {
  /** Namespace to send in (a path such as /run/netns/x or /proc/PID/ns/net); default: this one. */
  netns?: string;
  /** Namespace held as fd PEER_NS_FD for requests that create a link there. */
  peerNetns?: string;
}

/** Sends `reqs` in order; throws NetlinkError for the first the kernel refused. */
export async function netlink(where: string, reqs: readonly NlRequest[], at: Where = {}): Promise<void> {
  const replies = await helper.send(at.netns ?? '', at.peerNetns ?? '', encode(reqs));
  const failed = firstError(replies);
  if (failed) {
    throw new NetlinkError(where, failed.index, failed.errno, reqs[failed.index]?.what ?? 'request');
  }
}
