// An open-loop HTTP/1.1 load generator with independent (Poisson) arrivals timed to the microsecond,
// for bench/proxy/run.sh's fixed-rate latency runs. wrk paces each connection with timers of whole
// milliseconds, so its "Poisson" arrivals come in clumps of ~5 per millisecond at 5,000 req/s; a
// proxy then serves each clump back to back and the clumping shows up in the tail. Here arrivals
// are drawn from one seeded exponential distribution and each is sent when its time comes (kernel
// timers with 1 us slack, epoll_pwait2), on the first idle one of CONNS keep-alive connections.
// Latency is counted from an arrival's scheduled time, so time spent waiting for a free connection
// is counted too (no coordinated omission).
//
// Build: cc -O2 -o poisson bench/proxy/poisson.c -lm
// Usage: poisson PORT RATE SECONDS CONNS SEED HOST [WARMUP_SECONDS]
//   prints: requests, achieved rate, errors, connections made again, then p50 p90 p99 p99.9 max in microseconds.
// Responses must carry Content-Length (every target in bench/proxy answers so).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXCONNS 1024
#define BUFSZ 65536

typedef struct {
  int fd;
  int busy;
  int64_t started; // scheduled arrival time of the request in flight (ns)
  size_t have;     // bytes of the response read so far
  char buf[BUFSZ];
} conn_t;

static conn_t conns[MAXCONNS];
static int nconns;
static char request[512];
static size_t request_len;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

// splitmix64: a small seeded generator, the same sequence on every run
static uint64_t rng_state;
static double uniform01(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return ((z >> 11) + 0.5) / 9007199254740992.0; // in (0, 1)
}

static int open_conn(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr*)&a, sizeof a) < 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// Whether buf holds a whole response: 1 yes, 0 not yet, -1 malformed (no Content-Length).
static int complete(const char* buf, size_t n) {
  const char* end = memmem(buf, n, "\r\n\r\n", 4);
  if (end == NULL) return n >= BUFSZ ? -1 : 0;
  size_t head = (size_t)(end - buf) + 4;
  long length = -1;
  for (const char* p = buf; p < end;) {
    const char* eol = memmem(p, (size_t)(end - p) + 2, "\r\n", 2);
    if (eol == NULL) break;
    if ((size_t)(eol - p) > 15 && strncasecmp(p, "content-length:", 15) == 0) length = strtol(p + 15, NULL, 10);
    p = eol + 2;
  }
  if (length < 0) return -1;
  return n >= head + (size_t)length ? 1 : 0;
}

static int cmp64(const void* a, const void* b) {
  int64_t x = *(const int64_t*)a, y = *(const int64_t*)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char** argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: poisson PORT RATE SECONDS CONNS SEED HOST [WARMUP_SECONDS]\n");
    return 2;
  }
  int port = atoi(argv[1]);
  double rate = atof(argv[2]);
  double seconds = atof(argv[3]);
  nconns = atoi(argv[4]);
  rng_state = strtoull(argv[5], NULL, 10);
  double warmup = argc > 7 ? atof(argv[7]) : 1.0;
  if (rate <= 0 || seconds <= 0 || nconns < 1 || nconns > MAXCONNS) {
    fprintf(stderr, "poisson: bad arguments\n");
    return 2;
  }
  request_len = (size_t)snprintf(request, sizeof request, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", argv[6]);
  prctl(PR_SET_TIMERSLACK, 1000UL); // 1 us

  int ep = epoll_create1(0);
  for (int i = 0; i < nconns; i++) {
    conns[i].fd = open_conn(port);
    if (conns[i].fd < 0) {
      fprintf(stderr, "poisson: cannot connect to 127.0.0.1:%d: %s\n", port, strerror(errno));
      return 1;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
  }

  size_t cap = (size_t)(rate * (seconds + warmup) * 1.2) + 1024;
  int64_t* lat = malloc(cap * sizeof *lat);
  int64_t* queue = malloc(cap * sizeof *queue); // arrivals waiting for an idle connection
  size_t qhead = 0, qtail = 0, nlat = 0, errors = 0, reconnects = 0;
  int64_t t0 = now_ns();
  int64_t measure_from = t0 + (int64_t)(warmup * 1e9);
  int64_t stop = measure_from + (int64_t)(seconds * 1e9);
  double mean_gap = 1e9 / rate;
  int64_t next = t0 + (int64_t)(-log(uniform01()) * mean_gap);
  int in_flight = 0;
  int rr = 0;

  for (;;) {
    int64_t now = now_ns();
    while (next <= now && next < stop) {
      if (qtail < cap) queue[qtail++] = next;
      next += (int64_t)(-log(uniform01()) * mean_gap);
    }
    // the idle connections in turn (round robin), so that none sits idle long enough for a keep-alive timeout
    for (int k = 0; k < nconns && qhead < qtail; k++) {
      int i = rr;
      rr = (rr + 1) % nconns;
      conn_t* c = &conns[i];
      if (c->busy) continue;
      ssize_t w = write(c->fd, request, request_len);
      if (w != (ssize_t)request_len) {
        errors++;
        qhead++;
        continue;
      }
      c->busy = 1;
      c->have = 0;
      c->started = queue[qhead++];
      in_flight++;
    }
    if (next >= stop && qhead == qtail && in_flight == 0) break;
    // wait for the next arrival, or (arrivals queued for a connection, or none left) for a response
    struct timespec timeout;
    struct timespec* tp = NULL;
    if (next < stop && qhead == qtail) {
      int64_t wait = next - now_ns();
      if (wait < 0) wait = 0;
      timeout.tv_sec = wait / 1000000000;
      timeout.tv_nsec = wait % 1000000000;
      tp = &timeout;
    }
    struct epoll_event evs[64];
    int n = epoll_pwait2(ep, evs, 64, tp, NULL);
    if (n < 0 && errno != EINTR) {
      perror("epoll_pwait2");
      return 1;
    }
    int64_t done_at = now_ns();
    for (int k = 0; k < n; k++) {
      conn_t* c = &conns[evs[k].data.u32];
      ssize_t r = read(c->fd, c->buf + c->have, BUFSZ - c->have);
      if (r <= 0) {
        // closed by the target: a request in flight on it is an error; the connection is made again
        if (c->busy) {
          errors++;
          c->busy = 0;
          in_flight--;
        }
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = open_conn(port);
        if (c->fd < 0) {
          fprintf(stderr, "poisson: cannot connect again to 127.0.0.1:%d: %s\n", port, strerror(errno));
          return 1;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = evs[k].data.u32};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
        reconnects++;
        continue;
      }
      c->have += (size_t)r;
      if (!c->busy) continue;
      int s = complete(c->buf, c->have);
      if (s == 0) continue;
      if (s < 0) {
        fprintf(stderr, "poisson: a response without Content-Length, or too long\n");
        return 1;
      }
      c->busy = 0;
      in_flight--;
      if (c->started >= measure_from && nlat < cap) lat[nlat++] = done_at - c->started;
    }
  }

  qsort(lat, nlat, sizeof *lat, cmp64);
#define PCT(p) (nlat ? lat[(size_t)((p) * (nlat - 1))] / 1000.0 : 0.0)
  printf("requests %zu rate %.0f errors %zu reconnects %zu p50 %.0f p90 %.0f p99 %.0f p99.9 %.0f max %.0f\n", nlat, nlat / seconds,
         errors, reconnects, PCT(0.50), PCT(0.90), PCT(0.99), PCT(0.999), nlat ? lat[nlat - 1] / 1000.0 : 0.0);
  return 0;
}
