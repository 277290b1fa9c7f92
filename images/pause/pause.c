/*
 * pause: the infrastructure ("sandbox") container of a minikubelet pod.
 *
 * It holds the pod's namespaces open and does nothing else: it sleeps in
 * pause() until SIGTERM or SIGINT arrives, then exits 0. As PID 1 of a shared
 * PID namespace it also reaps every orphaned child re-parented to it, so no
 * zombies pile up. Modelled on Kubernetes' build/pause/linux/pause.c.
 *
 * Built with: gcc -static -Os -o pause pause.c  (see scripts/build-images.sh)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define STRINGIFY(x) #x
#define VERSION_STRING(x) STRINGIFY(x)

#ifndef VERSION
#define VERSION 3.10
#endif

static void write_str(int fd, const char *s) {
  size_t len = strlen(s);
  while (len > 0) {
    ssize_t n = write(fd, s, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return;
    }
    s += n;
    len -= (size_t)n;
  }
}

static void sigdown(int signo) {
  /* Only async-signal-safe calls in here. */
  write_str(STDERR_FILENO, signo == SIGTERM ? "Shutting down, got signal: Terminated\n"
                                            : "Shutting down, got signal: Interrupt\n");
  _exit(0);
}

static void sigreap(int signo) {
  int saved_errno = errno;
  (void)signo;
  while (waitpid(-1, NULL, WNOHANG) > 0)
    ;
  errno = saved_errno;
}

int main(int argc, char **argv) {
  int i;
  struct sigaction sa;

  for (i = 1; i < argc; ++i) {
    if (!strcasecmp(argv[i], "-v")) {
      printf("pause.c %s\n", VERSION_STRING(VERSION));
      return 0;
    }
  }

  if (getpid() != 1)
    /* Not an error: the pod may not share its PID namespace. */
    fprintf(stderr, "Warning: pause should be the first process\n");

  memset(&sa, 0, sizeof(sa));
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = sigdown;
  if (sigaction(SIGINT, &sa, NULL) < 0)
    return 1;
  if (sigaction(SIGTERM, &sa, NULL) < 0)
    return 2;

  sa.sa_handler = sigreap;
  sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
  if (sigaction(SIGCHLD, &sa, NULL) < 0)
    return 3;

  for (;;)
    pause();
  fprintf(stderr, "Error: infinite loop terminated\n");
  return 42;
}
