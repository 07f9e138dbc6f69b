/*
 * WebSocket load generator for the @ws benchmarks: one thread, epoll, non-blocking sockets,
 * pre-built masked frames (no per-message work beyond a writev and a header parse), so it can
 * drive a server faster than any of the servers under test answer. Loopback only.
 *
 *   loadgen echo  HOST PORT CONNS INFLIGHT SIZE WARMUP_S SECONDS [SERVER_PID]
 *       Each connection keeps INFLIGHT binary messages of SIZE bytes in flight: a new one goes
 *       out for every echo that comes back. Counts echoes and their round-trip latency over
 *       SECONDS after WARMUP_S. Prints one JSON line.
 *   loadgen handshake HOST PORT CONCURRENCY WARMUP_S SECONDS [SERVER_PID]
 *       CONCURRENCY loops of: connect, upgrade request, wait for the 101, abortive close (RST,
 *       so no TIME_WAIT piles up). Counts completed handshakes.
 *   loadgen hold HOST PORT CONNS
 *       Opens CONNS WebSocket connections (200 handshakes at a time), prints `ready N` and keeps
 *       them open, idle, until its standard input closes.
 *   loadgen fanout HOST PORT SUBS PATH WINDOW RATE WARMUP_S SECONDS LATENCY_S SIZES SERVER_PID [SUB_PORTS]
 *       SUBS subscribers and then one publisher connect to PATH (a room: a text message from one
 *       client goes to every other client of PATH). Probes until every subscriber has had one.
 *       Then per size in SIZES (comma-separated bytes): the publisher sends text messages, at
 *       most WINDOW beyond what the average subscriber has received (RATE > 0: also at most RATE
 *       per second), WARMUP_S then SECONDS measured: deliveries (messages received, over all
 *       subscribers) per second; then LATENCY_S of one publish at a time (the next after the last
 *       subscriber has it): p50/p99 from publish to each arrival. One JSON line per size.
 *       With SERVER_PID (0: none), its CPU time and instructions per delivery, as for echo.
 *       SUB_PORTS (comma-separated): the subscribers go round-robin to these ports instead of PORT
 *       (servers sharing a broker); the publisher stays on PORT. `extra` counts deliveries beyond
 *       publishes × SUBS (a duplicate), `missing` those short of it.
 *       Pings are answered (a server's keepalive must not close a subscriber in a long run). Server frames are unmasked: read and counted, never copied.
 *
 * With SERVER_PID, the server's CPU time (utime + stime from /proc) over the measured window is
 * reported too, and the generator's own CPU time, to show which side is the bottleneck. An echo
 * run also counts the instructions the server's threads retire in the window, in user space and
 * in the kernel (perf_event_open, one counter per thread that exists when the window opens;
 * -1 where the kernel refuses, e.g. perf_event_paranoid or no PMU): unlike rates and CPU time,
 * instructions per echo barely move when other jobs share the machine.
 *
 * Build: cc -O2 -o loadgen loadgen.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <linux/perf_event.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}
static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}
static double self_cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}
/** utime + stime of a process (all threads), seconds; -1 if unknown. */
static double proc_cpu_s(int pid) {
  if (pid <= 0) return -1;
  char path[64], buf[2048];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  if (!p) return -1;
  unsigned long ut = 0, st = 0;
  /* After ")": state(3) ... utime is field 14, stime 15. */
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return -1;
  return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

/* ---- instructions retired by the server's threads (user and kernel counted apart) ---- */
#define MAX_THREADS 512
static int instr_fd[2][MAX_THREADS];
static int instr_threads = -1; /* -1: not counting */

static int instr_counter(int tid, int kernel) {
  struct perf_event_attr a;
  memset(&a, 0, sizeof a);
  a.size = sizeof a;
  a.type = PERF_TYPE_HARDWARE;
  a.config = PERF_COUNT_HW_INSTRUCTIONS;
  a.disabled = 1;
  a.exclude_user = kernel;
  a.exclude_kernel = !kernel;
  a.exclude_hv = 1;
  return (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, 0);
}
static void instr_close(void) {
  for (int i = 0; i < instr_threads; i++) close(instr_fd[0][i]), close(instr_fd[1][i]);
  instr_threads = -1;
}
/* Open and start counters on every thread of pid; leaves instr_threads = -1 if any is refused. */
static void instr_start(int pid) {
  if (pid <= 0) return;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  DIR *d = opendir(path);
  if (!d) return;
  instr_threads = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && instr_threads < MAX_THREADS) {
    int tid = atoi(e->d_name);
    if (tid <= 0) continue;
    int u = instr_counter(tid, 0), k = u < 0 ? -1 : instr_counter(tid, 1);
    if (k < 0) {
      if (u >= 0) close(u);
      if (errno == ESRCH) continue; /* the thread just ended */
      closedir(d);
      instr_close();
      return;
    }
    instr_fd[0][instr_threads] = u;
    instr_fd[1][instr_threads++] = k;
  }
  closedir(d);
  for (int i = 0; i < instr_threads; i++)
    for (int m = 0; m < 2; m++) ioctl(instr_fd[m][i], PERF_EVENT_IOC_RESET, 0), ioctl(instr_fd[m][i], PERF_EVENT_IOC_ENABLE, 0);
}
/* Stop the counters and sum them: out[0] user, out[1] kernel; -1 each if not counting. */
static void instr_stop(double out[2]) {
  out[0] = out[1] = -1;
  if (instr_threads < 0) return;
  uint64_t sum[2] = {0, 0};
  for (int i = 0; i < instr_threads; i++)
    for (int m = 0; m < 2; m++) {
      uint64_t v = 0;
      ioctl(instr_fd[m][i], PERF_EVENT_IOC_DISABLE, 0);
      if (read(instr_fd[m][i], &v, sizeof v) == (ssize_t)sizeof v) sum[m] += v;
    }
  out[0] = (double)sum[0];
  out[1] = (double)sum[1];
  instr_close();
}

static void die(const char *what) {
  perror(what);
  exit(2);
}

/* ---- latency histogram: 1 µs buckets to 100 ms, 1 ms buckets to 60 s, then overflow ---- */
#define HFINE 100000                 /* µs buckets: [0, 100 ms) */
#define HCOARSE 59900                /* ms buckets: [100 ms, 60 s) */
#define HBUCKETS (HFINE + HCOARSE)
static uint64_t hist[HBUCKETS + 1];
static uint64_t hcount;
static void hist_add(uint64_t ns) {
  uint64_t us = ns / 1000;
  if (us < HFINE) hist[us]++;
  else {
    uint64_t ms = us / 1000 - HFINE / 1000;
    hist[HFINE + (ms < HCOARSE ? ms : HCOARSE)]++;
  }
  hcount++;
}
/* Percentile in µs, at the middle of its bucket; 60 s if it lies past the last bucket. */
static double hist_pct(double p) {
  if (hcount == 0) return -1;
  uint64_t want = (uint64_t)(p * (hcount - 1)) + 1, seen = 0;
  for (int i = 0; i <= HBUCKETS; i++) {
    seen += hist[i];
    if (seen >= want) {
      if (i < HFINE) return i + 0.5;
      return (HFINE / 1000 + (i - HFINE)) * 1000.0 + 500.0;
    }
  }
  return (HFINE / 1000 + HCOARSE) * 1000.0;
}

/* ---- connections ---- */
enum { ST_CONNECTING, ST_HANDSHAKE, ST_OPEN, ST_DONE };
#define RING 64 /* max messages in flight per connection (power of two) */

typedef struct conn {
  int fd;
  int state;
  /* handshake response scan */
  char head[4096];
  int head_len;
  /* frame receive state */
  int hdr_len;               /* bytes of the current header gathered */
  unsigned char hdr[14];
  uint64_t remaining;        /* payload bytes left in the current frame (when hdr complete) */
  int in_payload;
  int ctl;                   /* the current frame's opcode if a control frame (ping: answered), else 0 */
  int ctl_len;
  unsigned char ctl_data[125];
  /* send state: `pending` frames to send, the first `off` bytes of the first already sent */
  uint64_t pending;
  uint64_t got;              /* fan-out: messages this subscriber received (= seq of its next one) */
  size_t off;
  int want_out;
  /* send times of messages in flight */
  uint64_t sent_at[RING];
  unsigned head_i, tail_i;
  const char *req;
  size_t req_len, req_off;
} conn_t;

static int epfd;
static struct sockaddr_in addr;
static unsigned char *frame; /* one pre-built masked binary frame */
static size_t frame_len;
static uint64_t size_;
static int measuring;
static uint64_t received, received_total, errors;

static char request[512];
static size_t request_len;

static void build_request(const char *host, int port, const char *path) {
  request_len = snprintf(request, sizeof request,
                         "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                         path, host, port);
}

static int expect_opcode = 2; /* what the server sends back: binary echoes, text publishes */

/* One masked client frame of `size` bytes of ASCII ('a'..'z': valid UTF-8 for text) into frame/frame_len. */
static void build_frame_op(uint64_t size, int opcode) {
  size_t h = (size < 126 ? 2 : size <= 0xffff ? 4 : 10) + 4;
  frame_len = h + size;
  frame = malloc(frame_len);
  frame[0] = 0x80 | opcode;
  if (size < 126) frame[1] = 0x80 | size;
  else if (size <= 0xffff) {
    frame[1] = 0x80 | 126;
    frame[2] = size >> 8;
    frame[3] = size & 0xff;
  } else {
    frame[1] = 0x80 | 127;
    for (int i = 0; i < 8; i++) frame[2 + i] = (size >> (56 - 8 * i)) & 0xff;
  }
  unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
  memcpy(frame + h - 4, key, 4);
  for (uint64_t i = 0; i < size; i++) frame[h + i] = (unsigned char)('a' + i % 26) ^ key[i & 3];
}
static void build_frame(uint64_t size) { build_frame_op(size, 2); }

static void ep_mod(conn_t *c, int out) {
  struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
  if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl mod");
  c->want_out = out;
}

/* Fan-out over several servers: subscribers round-robin over these ports (none: all on PORT). */
static int rr_ports[16], rr_n, rr_i;

static conn_t *open_conn(void) {
  conn_t *c = calloc(1, sizeof *c);
  if (rr_n > 0) addr.sin_port = htons(rr_ports[rr_i++ % rr_n]);
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (c->fd < 0) die("socket");
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) die("connect");
  c->state = ST_CONNECTING;
  c->req = request;
  c->req_len = request_len;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl add");
  c->want_out = 1;
  return c;
}

static void close_conn(conn_t *c, int abortive) {
  if (abortive) {
    struct linger l = {1, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->state = ST_DONE;
}

/* Queue `n` more frames and try to write; records their send time. */
static void queue_frames(conn_t *c, int n) {
  uint64_t t = now_ns();
  for (int i = 0; i < n; i++) c->sent_at[(c->tail_i++) & (RING - 1)] = t;
  c->pending += n;
}

static int flush_out(conn_t *c) {
  while (c->pending > 0) {
    struct iovec iov[64];
    int k = 0;
    uint64_t p = c->pending;
    iov[k].iov_base = frame + c->off;
    iov[k].iov_len = frame_len - c->off;
    k++;
    while (k < 64 && (uint64_t)k < p) {
      iov[k].iov_base = frame;
      iov[k].iov_len = frame_len;
      k++;
    }
    ssize_t w = writev(c->fd, iov, k);
    if (w < 0) {
      if (errno == EAGAIN) {
        if (!c->want_out) ep_mod(c, 1);
        return 0;
      }
      errors++;
      return -1;
    }
    size_t done = (size_t)w;
    size_t first = frame_len - c->off;
    if (done < first) {
      c->off += done;
      continue;
    }
    done -= first;
    c->pending--;
    c->off = 0;
    c->pending -= done / frame_len;
    c->off = done % frame_len;
  }
  if (c->want_out) ep_mod(c, 0);
  return 0;
}

/* Consume server frames from buf; returns the number of complete messages. */
/* A whole control frame came: a ping is answered (a server's keepalive must not close us), a close is an error. */
static void control_frame(conn_t *c) {
  if (c->ctl == 9) {
    unsigned char pong[6 + 125] = {0x8a, (unsigned char)(0x80 | c->ctl_len), 0, 0, 0, 0}; /* mask key 0 */
    memcpy(pong + 6, c->ctl_data, c->ctl_len);
    if (write(c->fd, pong, 6 + c->ctl_len) != 6 + c->ctl_len) errors++;
  } else if (c->ctl == 8) {
    errors++;
  }
}

/* Consume server frames from buf; returns the number of complete data messages. */
static int consume(conn_t *c, const unsigned char *buf, size_t n) {
  int messages = 0;
  size_t i = 0;
  while (i < n) {
    if (!c->in_payload) {
      c->hdr[c->hdr_len++] = buf[i++];
      if (c->hdr_len < 2) continue;
      int l7 = c->hdr[1] & 0x7f;
      int need = 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0);
      if (c->hdr_len < need) continue;
      uint64_t len = l7;
      if (l7 == 126) len = (c->hdr[2] << 8) | c->hdr[3];
      else if (l7 == 127) {
        len = 0;
        for (int j = 0; j < 8; j++) len = (len << 8) | c->hdr[2 + j];
      }
      int opcode = c->hdr[0] & 0x0f;
      c->ctl = opcode >= 8 ? opcode : 0;
      c->ctl_len = 0;
      if (c->ctl ? len > 125 : opcode != expect_opcode || !(c->hdr[0] & 0x80) || len != size_) errors++;
      c->hdr_len = 0;
      c->remaining = len;
      c->in_payload = 1;
    }
    size_t take = n - i < c->remaining ? n - i : c->remaining;
    if (c->ctl && take > 0) {
      size_t room = sizeof c->ctl_data - c->ctl_len, copy = take < room ? take : room;
      memcpy(c->ctl_data + c->ctl_len, buf + i, copy);
      c->ctl_len += copy;
    }
    i += take;
    c->remaining -= take;
    if (c->remaining == 0) {
      c->in_payload = 0;
      if (c->ctl) control_frame(c);
      else messages++;
    }
  }
  return messages;
}

static unsigned char rbuf[1 << 18];

/* Returns 1 when the handshake just completed, -1 on failure. */
static int do_handshake_io(conn_t *c, uint32_t events) {
  if (c->state == ST_CONNECTING && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) return -1;
    c->state = ST_HANDSHAKE;
  }
  if (c->state == ST_HANDSHAKE && c->req_off < c->req_len) {
    ssize_t w = write(c->fd, c->req + c->req_off, c->req_len - c->req_off);
    if (w < 0 && errno != EAGAIN) return -1;
    if (w > 0) c->req_off += w;
    if (c->req_off == c->req_len) ep_mod(c, 0);
  }
  if (c->state == ST_HANDSHAKE && (events & EPOLLIN)) {
    ssize_t r = read(c->fd, c->head + c->head_len, sizeof c->head - 1 - c->head_len);
    if (r == 0) return -1;
    if (r < 0) return errno == EAGAIN ? 0 : -1;
    c->head_len += r;
    c->head[c->head_len] = 0;
    char *end = strstr(c->head, "\r\n\r\n");
    if (!end) return c->head_len >= (int)sizeof c->head - 1 ? -1 : 0;
    if (strncmp(c->head, "HTTP/1.1 101", 12) != 0) return -1;
    c->state = ST_OPEN;
    /* Anything after the head is frame data (none expected before we send). */
    size_t rest = c->head_len - (end + 4 - c->head);
    if (rest) consume(c, (unsigned char *)end + 4, rest);
    return 1;
  }
  return 0;
}

static int run_echo(int conns, int inflight, double warmup, double seconds, int server_pid) {
  conn_t **cs = calloc(conns, sizeof *cs);
  int open = 0;
  for (int i = 0; i < conns; i++) cs[i] = open_conn();
  struct epoll_event evs[256];
  double deadline = now_s() + 10;
  while (open < conns) {
    if (now_s() > deadline) {
      fprintf(stderr, "handshakes timed out (%d/%d)\n", open, conns);
      return 2;
    }
    int n = epoll_wait(epfd, evs, 256, 100);
    for (int i = 0; i < n; i++) {
      conn_t *c = evs[i].data.ptr;
      int r = do_handshake_io(c, evs[i].events);
      if (r < 0) {
        fprintf(stderr, "handshake failed\n");
        return 2;
      }
      if (r == 1) open++;
    }
  }
  for (int i = 0; i < conns; i++) {
    queue_frames(cs[i], inflight);
    if (flush_out(cs[i]) < 0) return 2;
  }
  double t0 = now_s(), start = t0 + warmup, end = start + seconds;
  double cpu0 = 0, scpu0 = 0, cpu1 = 0, scpu1 = 0, instr[2] = {-1, -1};
  for (;;) {
    double t = now_s();
    if (!measuring && t >= start) {
      measuring = 1;
      received = 0;
      memset(hist, 0, sizeof hist);
      hcount = 0;
      cpu0 = self_cpu_s();
      scpu0 = proc_cpu_s(server_pid);
      instr_start(server_pid);
      start = t;
      end = t + seconds; /* a late wake-up must not shorten the window */
    }
    if (measuring && t >= end) {
      cpu1 = self_cpu_s();
      scpu1 = proc_cpu_s(server_pid);
      instr_stop(instr);
      end = t;
      break;
    }
    int n = epoll_wait(epfd, evs, 256, 50);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      conn_t *c = evs[i].data.ptr;
      if (evs[i].events & EPOLLIN) {
        for (;;) {
          ssize_t r = read(c->fd, rbuf, sizeof rbuf);
          if (r == 0 || (r < 0 && errno != EAGAIN)) {
            fprintf(stderr, "server closed a connection\n");
            return 2;
          }
          if (r < 0) break;
          int m = consume(c, rbuf, r);
          if (m > 0) {
            uint64_t tn = now_ns();
            for (int j = 0; j < m; j++) {
              uint64_t sent = c->sent_at[(c->head_i++) & (RING - 1)];
              if (measuring) hist_add(tn - sent);
            }
            received_total += m;
            if (measuring) received += m;
            queue_frames(c, m);
          }
          if ((size_t)r < sizeof rbuf) break;
        }
      }
      if (c->pending > 0 && flush_out(c) < 0) return 2;
    }
  }
  double window = end - start;
  printf("{\"mode\":\"echo\",\"conns\":%d,\"inflight\":%d,\"size\":%llu,\"seconds\":%.3f,\"messages\":%llu,"
         "\"msgsPerSec\":%.1f,\"mbPerSec\":%.2f,\"p50us\":%.1f,\"p99us\":%.1f,\"p999us\":%.1f,\"errors\":%llu,"
         "\"loadgenCpu\":%.3f,\"serverCpu\":%.3f,\"instrPerEchoUser\":%.0f,\"instrPerEchoKernel\":%.0f}\n",
         conns, inflight, (unsigned long long)size_, window, (unsigned long long)received, received / window,
         received * (double)size_ / window / 1e6, hist_pct(0.5), hist_pct(0.99), hist_pct(0.999),
         (unsigned long long)errors, (cpu1 - cpu0) / window, server_pid > 0 ? (scpu1 - scpu0) / window : -1,
         instr[0] >= 0 && received > 0 ? instr[0] / received : -1, instr[1] >= 0 && received > 0 ? instr[1] / received : -1);
  return errors ? 1 : 0;
}

static int run_handshake(int concurrency, double warmup, double seconds, int server_pid) {
  struct epoll_event evs[256];
  for (int i = 0; i < concurrency; i++) open_conn();
  uint64_t done = 0, failed = 0;
  double start = now_s() + warmup, end = start + seconds;
  double cpu0 = 0, scpu0 = 0, cpu1 = 0, scpu1 = 0;
  int measuring_hs = 0;
  uint64_t at_start = 0;
  for (;;) {
    double t = now_s();
    if (!measuring_hs && t >= start) {
      measuring_hs = 1;
      at_start = done;
      cpu0 = self_cpu_s();
      scpu0 = proc_cpu_s(server_pid);
      start = t;
      end = t + seconds;
    }
    if (measuring_hs && t >= end) {
      cpu1 = self_cpu_s();
      scpu1 = proc_cpu_s(server_pid);
      end = t;
      break;
    }
    int n = epoll_wait(epfd, evs, 256, 50);
    for (int i = 0; i < n; i++) {
      conn_t *c = evs[i].data.ptr;
      int r = do_handshake_io(c, evs[i].events);
      if (r == 0) continue;
      if (r == 1) done++;
      else failed++;
      close_conn(c, 1);
      free(c);
      open_conn();
    }
  }
  double window = end - start;
  uint64_t count = done - at_start;
  printf("{\"mode\":\"handshake\",\"concurrency\":%d,\"seconds\":%.3f,\"handshakes\":%llu,\"perSec\":%.1f,"
         "\"failed\":%llu,\"loadgenCpu\":%.3f,\"serverCpu\":%.3f}\n",
         concurrency, window, (unsigned long long)count, count / window, (unsigned long long)failed,
         (cpu1 - cpu0) / window, server_pid > 0 ? (scpu1 - scpu0) / window : -1);
  return 0;
}

static int run_hold(int conns) {
  struct epoll_event evs[256];
  int started = 0, open = 0, inprogress = 0;
  double deadline = now_s() + 120;
  while (open < conns) {
    while (started < conns && inprogress < 200) {
      open_conn();
      started++;
      inprogress++;
    }
    if (now_s() > deadline) {
      fprintf(stderr, "hold: timed out with %d/%d open\n", open, conns);
      return 2;
    }
    int n = epoll_wait(epfd, evs, 256, 100);
    for (int i = 0; i < n; i++) {
      conn_t *c = evs[i].data.ptr;
      if (c->state == ST_OPEN) {
        /* An open connection that became readable: the server closed it or sent something. */
        ssize_t r = read(c->fd, rbuf, sizeof rbuf);
        if (r == 0) {
          fprintf(stderr, "hold: the server closed a connection\n");
          return 2;
        }
        continue;
      }
      int r = do_handshake_io(c, evs[i].events);
      if (r < 0) {
        fprintf(stderr, "hold: handshake failed after %d\n", open);
        return 2;
      }
      if (r == 1) {
        open++;
        inprogress--;
      }
    }
  }
  printf("ready %d\n", open);
  fflush(stdout);
  /* Idle until told to go (stdin closes or a line arrives). */
  char line[16];
  if (fgets(line, sizeof line, stdin) == NULL) {
  }
  return 0;
}


/* ---- fan-out: SUBS subscribers and one publisher in one room ---- */
#define SEQ_RING 65536 /* send times of publishes, by sequence number (power of two) */
static uint64_t pub_sent_at[SEQ_RING];
static conn_t **fan_subs;
static conn_t *fan_pub;
static int fan_n;
static uint64_t published, delivered, with_any, pub_unexpected;
static int latency_on;
static uint64_t aligned_pub, aligned_del; /* at the last alignment: every subscriber's next message was aligned_pub */

/* Open `n` connections into cs[] (200 handshakes at a time); 0 when all are open. */
static int open_many(conn_t **cs, int n, double timeout_s) {
  struct epoll_event evs[256];
  int started = 0, open = 0, inprogress = 0;
  double deadline = now_s() + timeout_s;
  while (open < n) {
    while (started < n && inprogress < 200) {
      cs[started++] = open_conn();
      inprogress++;
    }
    if (now_s() > deadline) {
      fprintf(stderr, "fanout: handshakes timed out (%d/%d open)\n", open, n);
      return -1;
    }
    int k = epoll_wait(epfd, evs, 256, 100);
    for (int i = 0; i < k; i++) {
      conn_t *c = evs[i].data.ptr;
      if (c->state == ST_OPEN) continue; /* nothing is published yet */
      int r = do_handshake_io(c, evs[i].events);
      if (r < 0) {
        fprintf(stderr, "fanout: handshake failed after %d open (a 101 expected)\n", open);
        return -1;
      }
      if (r == 1) open++, inprogress--;
    }
  }
  return 0;
}

/* Queue k publishes on the publisher (their send time recorded by sequence number) and write. */
static int publish(uint64_t k) {
  uint64_t t = now_ns();
  for (uint64_t i = 0; i < k; i++) pub_sent_at[(published++) & (SEQ_RING - 1)] = t;
  fan_pub->pending += k;
  return flush_out(fan_pub);
}

/* One epoll round: read what subscribers got (latency by sequence number), write the publisher's backlog. */
static int fan_events(int timeout_ms) {
  static struct epoll_event evs[1024];
  int k = epoll_wait(epfd, evs, 1024, timeout_ms);
  if (k < 0 && errno != EINTR) die("epoll_wait");
  for (int i = 0; i < k; i++) {
    conn_t *c = evs[i].data.ptr;
    if (evs[i].events & EPOLLIN) {
      for (;;) {
        ssize_t r = read(c->fd, rbuf, sizeof rbuf);
        if (r == 0 || (r < 0 && errno != EAGAIN)) {
          fprintf(stderr, "fanout: the server closed a %s\n", c == fan_pub ? "publisher" : "subscriber");
          return -1;
        }
        if (r < 0) break;
        if (c == fan_pub) {
          pub_unexpected += r; /* the sender never gets its own message back */
        } else {
          int m = consume(c, rbuf, r);
          if (m > 0) {
            if (latency_on) {
              uint64_t tn = now_ns();
              for (int j = 0; j < m; j++)
                if (c->got + j < published) hist_add(tn - pub_sent_at[(c->got + j) & (SEQ_RING - 1)]); /* else misaligned by a loss */
            }
            if (c->got == 0) with_any++;
            c->got += m;
            delivered += m;
            if (measuring) received += m;
          }
        }
        if ((size_t)r < sizeof rbuf) break;
      }
    }
    if (c == fan_pub && c->pending > 0 && flush_out(c) < 0) return -1;
  }
  return 0;
}

/* Wait until `target` deliveries or `quiet_s` without progress; then every subscriber's next message is `published`. */
static int fan_drain(uint64_t target, double quiet_s) {
  uint64_t last = delivered;
  double quiet_until = now_s() + quiet_s;
  while (delivered < target || fan_pub->pending > 0) {
    if (fan_events(10) < 0) return -1;
    if (delivered != last) last = delivered, quiet_until = now_s() + quiet_s;
    else if (now_s() > quiet_until) break;
  }
  for (int i = 0; i < fan_n; i++) fan_subs[i]->got = published;
  aligned_pub = published;
  aligned_del = delivered;
  return 0;
}

/* Publish for `seconds` keeping at most `window` publishes beyond what the average subscriber has (rate > 0: at most that many per second). */
static int fan_run(double seconds, uint64_t window, double rate) {
  double t0 = now_s(), end = t0 + seconds;
  uint64_t base = published;
  while (now_s() < end) {
    uint64_t done = aligned_pub + (delivered - aligned_del) / fan_n; /* publishes the average subscriber has */
    uint64_t allowed = published - done < window ? window - (published - done) : 0;
    if (rate > 0) {
      uint64_t by_rate = (uint64_t)(rate * (now_s() - t0)) + 1;
      uint64_t sent = published - base;
      allowed = by_rate > sent ? (allowed < by_rate - sent ? allowed : by_rate - sent) : 0;
    }
    if (allowed > 0 && fan_pub->pending == 0 && publish(allowed) < 0) return -1;
    if (fan_events(rate > 0 ? 1 : 20) < 0) return -1;
  }
  return 0;
}

static int run_fanout(int subs, uint64_t window, double rate, double warmup, double seconds, double lat_seconds,
                      const char *sizes, int server_pid, const char *sub_ports) {
  fan_n = subs;
  fan_subs = calloc(subs + 1, sizeof *fan_subs);
  in_port_t pub_port = addr.sin_port;
  for (const char *p = sub_ports; p && *p && rr_n < 16;) {
    rr_ports[rr_n++] = (int)strtol(p, (char **)&p, 10);
    if (*p == ',') p++;
  }
  if (open_many(fan_subs, subs, 120) < 0) return 2;
  rr_n = 0;
  addr.sin_port = pub_port;
  if (open_many(fan_subs + subs, 1, 10) < 0) return 2;
  fan_pub = fan_subs[subs];
  expect_opcode = 1; /* the rooms relay text */
  if (window < 1 || window > SEQ_RING / 4) {
    fprintf(stderr, "fanout: window must be 1..%d\n", SEQ_RING / 4);
    return 2;
  }
  int rc = 0;
  int first = 1;
  for (const char *p = sizes; *p;) {
    size_ = strtoull(p, (char **)&p, 10);
    if (*p == ',') p++;
    build_frame_op(size_, 1);
    if (first) {
      /* Every subscriber joined the room: probes until each has had one, then settle. */
      double deadline = now_s() + 60;
      while (with_any < (uint64_t)subs) {
        if (now_s() > deadline) {
          fprintf(stderr, "fanout: only %llu of %d subscribers got a probe\n", (unsigned long long)with_any, subs);
          return 2;
        }
        uint64_t before = delivered;
        if (publish(1) < 0) return 2;
        double until = now_s() + 0.5;
        while (delivered - before < (uint64_t)subs && now_s() < until)
          if (fan_events(10) < 0) return 2;
      }
      if (fan_drain(UINT64_MAX, 0.2) < 0) return 2;
      first = 0;
    }
    uint64_t expected = delivered + 0, start_pub = published;
    errors = 0;
    /* Warm-up, then the measured window: as many publishes as the window allows. */
    if (fan_run(warmup, window, rate) < 0) return 2;
    measuring = 1;
    received = 0;
    uint64_t pub0 = published;
    double c0 = self_cpu_s(), s0 = proc_cpu_s(server_pid), w0 = now_s(), instr[2];
    instr_start(server_pid);
    if (fan_run(seconds, window, rate) < 0) return 2;
    double w1 = now_s(), c1 = self_cpu_s(), s1 = proc_cpu_s(server_pid);
    instr_stop(instr);
    measuring = 0;
    uint64_t pubs = published - pub0, got = received;
    expected += (published - start_pub) * subs;
    if (fan_drain(expected, 5) < 0) return 2;
    uint64_t missing = expected > delivered ? expected - delivered : 0;
    /* Latency: one publish at a time, each after the last reached every subscriber. */
    memset(hist, 0, sizeof hist);
    hcount = 0;
    latency_on = 1;
    uint64_t lat_start = published, lat_expected = delivered;
    if (fan_run(lat_seconds, 1, 0) < 0) return 2;
    lat_expected += (published - lat_start) * subs;
    if (fan_drain(lat_expected, 5) < 0) return 2;
    latency_on = 0;
    if (lat_expected > delivered) missing += lat_expected - delivered;
    uint64_t extra = delivered > lat_expected ? delivered - lat_expected : 0;
    double window_s = w1 - w0;
    printf("{\"mode\":\"fanout\",\"subscribers\":%d,\"size\":%llu,\"window\":%llu,\"seconds\":%.3f,\"publishes\":%llu,"
           "\"deliveries\":%llu,\"deliveriesPerSec\":%.1f,\"publishesPerSec\":%.1f,\"latencyPublishes\":%llu,"
           "\"p50us\":%.1f,\"p99us\":%.1f,\"missing\":%llu,\"extra\":%llu,\"errors\":%llu,\"publisherGot\":%llu,"
           "\"loadgenCpu\":%.3f,\"serverCpu\":%.3f,\"instrPerDeliveryUser\":%.0f,\"instrPerDeliveryKernel\":%.0f}\n",
           subs, (unsigned long long)size_, (unsigned long long)window, window_s, (unsigned long long)pubs,
           (unsigned long long)got, got / window_s, pubs / window_s, (unsigned long long)(published - lat_start),
           hist_pct(0.5), hist_pct(0.99), (unsigned long long)missing, (unsigned long long)extra, (unsigned long long)errors,
           (unsigned long long)pub_unexpected, (c1 - c0) / window_s, server_pid > 0 ? (s1 - s0) / window_s : -1,
           instr[0] >= 0 && got > 0 ? instr[0] / got : -1, instr[1] >= 0 && got > 0 ? instr[1] / got : -1);
    fflush(stdout);
    if (errors || missing || extra) rc = 1;
    free(frame);
  }
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: loadgen echo|handshake|hold|fanout HOST PORT ...\n");
    return 2;
  }
  const char *mode = argv[1], *host = argv[2];
  int port = atoi(argv[3]);
  if (strncmp(host, "127.", 4) != 0 && strcmp(host, "localhost") != 0) {
    fprintf(stderr, "loadgen: loopback only (127.0.0.0/8), got %s\n", host);
    return 2;
  }
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" : host, &addr.sin_addr);
  build_request(host, port, strcmp(mode, "fanout") == 0 && argc >= 6 ? argv[5] : "/");
  epfd = epoll_create1(0);
  if (epfd < 0) die("epoll_create1");
  if (strcmp(mode, "echo") == 0 && argc >= 9) {
    size_ = strtoull(argv[6], NULL, 10);
    build_frame(size_);
    int inflight = atoi(argv[5]);
    if (inflight < 1 || inflight > RING) {
      fprintf(stderr, "inflight must be 1..%d\n", RING);
      return 2;
    }
    return run_echo(atoi(argv[4]), inflight, atof(argv[7]), atof(argv[8]), argc > 9 ? atoi(argv[9]) : 0);
  }
  if (strcmp(mode, "handshake") == 0 && argc >= 7) {
    return run_handshake(atoi(argv[4]), atof(argv[5]), atof(argv[6]), argc > 7 ? atoi(argv[7]) : 0);
  }
  if (strcmp(mode, "hold") == 0 && argc >= 5) return run_hold(atoi(argv[4]));
  if (strcmp(mode, "fanout") == 0 && argc >= 13)
    return run_fanout(atoi(argv[4]), strtoull(argv[6], NULL, 10), atof(argv[7]), atof(argv[8]), atof(argv[9]),
                      atof(argv[10]), argv[11], atoi(argv[12]), argc > 13 ? argv[13] : NULL);
  fprintf(stderr, "bad arguments\n");
  return 2;
}
