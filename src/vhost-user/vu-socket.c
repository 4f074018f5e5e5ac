/* SPDX-License-Identifier: MIT */
#include "vu-socket.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"

struct vu_listener {
	struct event_loop *loop;
	int fd;
	char *path;
	struct event_source *src;
	vu_accept_fn on_accept;
	void *data;
};

static void on_listen_event(void *data, int fd, uint32_t events)
{
	struct vu_listener *l = data;
	int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

	if (conn < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			log_warn("accept on %s failed: %s", l->path, strerror(errno));
		}
		return;
	}
	l->on_accept(l->data, conn);
}

static int fill_addr(struct sockaddr_un *addr, const char *path)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(addr->sun_path)) {
		return -ENAMETOOLONG;
	}
	strcpy(addr->sun_path, path);
	return 0;
}

/* Removes path if it is a socket nobody listens on any more. */
static int remove_stale(const char *path)
{
	struct sockaddr_un addr;
	struct stat st;
	_cleanup_close_ int probe = -1;

	if (lstat(path, &st) < 0) {
		return errno == ENOENT ? 0 : -errno;
	}
	if (!S_ISSOCK(st.st_mode)) {
		return -EEXIST;
	}
	fill_addr(&addr, path);
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe < 0) {
		return -errno;
	}
	if (connect(probe, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
		return -EADDRINUSE;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		return -errno;
	}
	return 0;
}

struct vu_listener *vu_listener_create(struct event_loop *loop, const char *path,
	vu_accept_fn on_accept, void *data)
{
	struct sockaddr_un addr;
	struct vu_listener *l;
	int r;

	r = fill_addr(&addr, path);
	if (r == 0) {
		r = remove_stale(path);
	}
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		return NULL;
	}
	l->loop = loop;
	l->on_accept = on_accept;
	l->data = data;
	l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	l->path = strdup(path);
	if (l->fd < 0 || !l->path) {
		goto err;
	}
	if (bind(l->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		goto err;
	}
	if (listen(l->fd, 1) < 0) {
		goto err_unlink;
	}
	l->src = event_loop_add_fd(loop, l->fd, EPOLLIN, on_listen_event, l);
	if (!l->src) {
		goto err_unlink;
	}
	return l;

err_unlink:
	unlink(path);
err:
	r = errno;
	if (l->fd >= 0) {
		close(l->fd);
	}
	free(l->path);
	free(l);
	errno = r;
	return NULL;
}

int vu_listener_pause(struct vu_listener *l)
{
	return event_source_set_events(l->src, 0);
}

int vu_listener_resume(struct vu_listener *l)
{
	return event_source_set_events(l->src, EPOLLIN);
}

void vu_listener_destroy(struct vu_listener *l)
{
	if (!l) {
		return;
	}
	event_source_remove(l->src);
	close(l->fd);
	unlink(l->path);
	free(l->path);
	free(l);
}
