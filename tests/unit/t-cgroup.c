/* Unit tests for lib/cgroup.c: the path parsers, the mount, the inode -> path map. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "tap.h"

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID64B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define UID_ "1a2b3c4d_5e6f_4a8b_9c0d_1e2f3a4b5c6d"
#define UID "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d"

static void test_parse(void)
{
	static const struct {
		const char *path, *container, *runtime, *pod, *unit;
	} cases[] = {
		/* docker, systemd driver and cgroupfs driver */
		{ "/system.slice/docker-" ID64 ".scope", ID64, "docker", "", "" },
		{ "/docker/" ID64, ID64, "docker", "", "" },
		{ "/docker/" ID64 "/docker/" ID64B, ID64B, "docker", "", "" },
		/* Kubernetes, systemd driver: burstable, besteffort, guaranteed */
		{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice/"
		  "cri-containerd-" ID64 ".scope", ID64, "containerd", UID, "" },
		{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice/"
		  "crio-" ID64 ".scope", ID64, "cri-o", UID, "" },
		{ "/kubepods.slice/kubepods-pod" UID_ ".slice/docker-" ID64 ".scope", ID64, "docker",
		  UID, "" },
		/* conmon is not the container; the pod alone */
		{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice/"
		  "crio-conmon-" ID64 ".scope", "", "", UID, "" },
		{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice",
		  "", "", UID, "" },
		/* Kubernetes, cgroupfs driver */
		{ "/kubepods/burstable/pod" UID "/" ID64, ID64, "", UID, "" },
		{ "/kubepods/besteffort/pod" UID "/" ID64, ID64, "", UID, "" },
		{ "/kubepods/pod" UID "/" ID64, ID64, "", UID, "" },
		{ "/kubepods/burstable/pod" UID, "", "", UID, "" },
		/* podman, rootful and rootless, with its inner "container" cgroup */
		{ "/machine.slice/libpod-" ID64 ".scope/container", ID64, "podman", "", "" },
		{ "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID64 ".scope",
		  ID64, "podman", "", "user@1000.service" },
		{ "/machine.slice/libpod-conmon-" ID64 ".scope", "", "", "", "" },
		/* systemd: the innermost service */
		{ "/system.slice/sshd.service", "", "", "", "sshd.service" },
		{ "/system.slice/docker.service", "", "", "", "docker.service" },
		{ "/user.slice/user-1000.slice/user@1000.service/app.slice/dbus.service", "", "", "",
		  "dbus.service" },
		{ "/system.slice/foo.service/worker", "", "", "", "foo.service" },
		{ "/system.slice/session-3.scope", "", "", "", "" },
		{ "/.service", "", "", "", "" },
		/* anywhere in the tree, as under a test's own prefix */
		{ "/xtcp-test/system.slice/docker-" ID64 ".scope", ID64, "docker", "", "" },
		/* not ids */
		{ "/", "", "", "", "" },
		{ "", "", "", "", "" },
		{ "/docker/not-an-id", "", "", "", "" },
		{ "/docker/0123456789a", "", "", "", "" },                 /* 11 digits */
		{ "/system.slice/docker-0123abcd.scope", "", "", "", "" },
		{ "/system.slice/docker-" ID64 "0.scope", "", "", "", "" }, /* 65 digits */
		{ "/system.slice/docker-" "0123456789ABCDEF0123" ".scope", "", "", "", "" },
		{ "/burstable/pod" UID "/" ID64, "", "", "", "" },          /* no kubepods */
		{ "/kubepods/burstable/podxyz/" ID64, "", "", "", "" },
		{ "/other/" ID64, "", "", "", "" },
		{ "//system.slice//sshd.service/", "", "", "", "sshd.service" },
	};
	struct xtcp_cgroup_names n;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		xtcp_cgroup_parse(cases[i].path, &n);
		ok(!strcmp(n.container_id, cases[i].container) &&
		   !strcmp(n.container_runtime, cases[i].runtime) && !strcmp(n.pod_uid, cases[i].pod) &&
		   !strcmp(n.systemd_unit, cases[i].unit), "parse '%s'", cases[i].path) ||
			printf("#   got container '%s' runtime '%s' pod '%s' unit '%s'\n", n.container_id,
			       n.container_runtime, n.pod_uid, n.systemd_unit);
	}
}

static char dir[64];

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	fputs(text, fp);
	fclose(fp);
}

static void test_mount(void)
{
	char mi[128], mount[512], root[512];

	snprintf(mi, sizeof(mi), "%s/mountinfo", dir);
	write_file(mi,
		   "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
		   "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
		   "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
		   "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw\n");
	ok(xtcp_cgroup_find_mount(mi, mount, root, sizeof(mount)) == 1 &&
	   !strcmp(mount, "/sys/fs/cgroup/unified") && !strcmp(root, "/"),
	   "hybrid: the cgroup2 mount is /sys/fs/cgroup/unified");

	write_file(mi,
		   "50 1 0:38 /kubepods /mnt/pods rw - cgroup2 cgroup2 rw\n"
		   "51 1 0:38 / /mnt/my\\040cgroup rw - cgroup2 cgroup2 rw\n"
		   "52 1 0:38 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
	ok(xtcp_cgroup_find_mount(mi, mount, root, sizeof(mount)) == 1 &&
	   !strcmp(mount, "/mnt/my cgroup") && !strcmp(root, "/"),
	   "the first mount of the whole hierarchy, unescaped");

	write_file(mi, "50 1 0:38 /kube\\134pods /mnt/pods rw - cgroup2 cgroup2 rw\n");
	ok(xtcp_cgroup_find_mount(mi, mount, root, sizeof(mount)) == 1 &&
	   !strcmp(mount, "/mnt/pods") && !strcmp(root, "/kube\\pods"),
	   "a subtree mount gives its root");

	write_file(mi, "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw\n"
		   "32 31 0:29 / /sys/fs/cgroup/cgroup2 rw - cgroup cgroup rw,name=cgroup2\n");
	ok(xtcp_cgroup_find_mount(mi, mount, root, sizeof(mount)) == 0, "no cgroup2 mount: 0");

	ok(xtcp_cgroup_find_mount(mi, mount, root, 8) == 0, "no mount: nothing to overflow");
	write_file(mi, "52 1 0:38 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
	errno = 0;
	ok(xtcp_cgroup_find_mount(mi, mount, root, 8) == -1 && errno == ENAMETOOLONG,
	   "a mount point longer than the room: ENAMETOOLONG");
	errno = 0;
	snprintf(mi, sizeof(mi), "%s/absent", dir);
	ok(xtcp_cgroup_find_mount(mi, mount, root, sizeof(mount)) == -1 && errno == ENOENT,
	   "no mountinfo: -1, ENOENT");
}

static uint64_t ino(const char *rel)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/cg%s", dir, rel);
	if (stat(path, &st) < 0)
		return 0;
	return st.st_ino;
}

static void mk(const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/cg%s", dir, rel);
	mkdir(path, 0755);
}

static void rm(const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/cg%s", dir, rel);
	rmdir(path);
}

/* A directory tree stands in for the cgroup2 filesystem: ids are inodes either way. */
static void test_map(void)
{
	struct xtcp_cgroups cg;
	struct xtcp_cgroup out;
	char mi[128], text[256];
	uint64_t gone, late;

	snprintf(mi, sizeof(mi), "%s/mountinfo", dir);
	snprintf(text, sizeof(text), "41 31 0:38 / %s/cg rw - cgroup2 cgroup2 rw\n", dir);
	write_file(mi, text);
	mk("");
	mk("/system.slice");
	mk("/system.slice/sshd.service");
	mk("/system.slice/docker-" ID64 ".scope");
	mk("/kubepods.slice");
	mk("/kubepods.slice/kubepods-besteffort.slice");
	mk("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice");
	mk("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice/crio-"
	   ID64B ".scope");
	mk("/gone");

	ok(xtcp_cgroups_init(&cg, mi) == 0, "init");
	xtcp_cgroups_begin_poll(&cg);
	ok(xtcp_cgroups_resolve(&cg, ino(""), &out) == 1 && !strcmp(out.path, "/") &&
	   !*out.container_id && !*out.systemd_unit, "the root is /");
	is(cg.walks, 1, "the first resolve walks");
	ok(!strcmp(cg.mount, dir) || strstr(cg.mount, "/cg"), "the mount from mountinfo");
	ok(xtcp_cgroups_resolve(&cg, ino("/system.slice/sshd.service"), &out) == 1 &&
	   !strcmp(out.path, "/system.slice/sshd.service") &&
	   !strcmp(out.systemd_unit, "sshd.service"), "a service");
	ok(xtcp_cgroups_resolve(&cg, ino("/system.slice/docker-" ID64 ".scope"), &out) == 1 &&
	   !strcmp(out.container_id, ID64) && !strcmp(out.container_runtime, "docker"),
	   "a docker container");
	ok(xtcp_cgroups_resolve(&cg, ino("/kubepods.slice/kubepods-besteffort.slice/"
					 "kubepods-besteffort-pod" UID_ ".slice/crio-" ID64B ".scope"),
				&out) == 1 && !strcmp(out.container_id, ID64B) &&
	   !strcmp(out.pod_uid, UID) && !strcmp(out.container_runtime, "cri-o"),
	   "a CRI-O container in a pod");
	ok(xtcp_cgroups_resolve(&cg, ino("/system.slice/sshd.service"), &out) == 1 &&
	   !strcmp(out.systemd_unit, "sshd.service"), "parsed once, kept");
	is(cg.walks, 1, "known ids walk no more");

	/* a cgroup made after the walk: found by one more walk, in the next poll */
	mk("/system.slice/late.service");
	late = ino("/system.slice/late.service");
	ok(xtcp_cgroups_resolve(&cg, late, &out) == 0 && !*out.path,
	   "made after this poll's walk: not found in this poll");
	is(cg.walks, 1, "at most one walk a poll");
	is(cg.unknown_ids, 0, "and not yet taken for removed");
	xtcp_cgroups_begin_poll(&cg);
	ok(xtcp_cgroups_resolve(&cg, late, &out) == 1 &&
	   !strcmp(out.path, "/system.slice/late.service"), "found in the next poll");
	is(cg.walks, 2, "by a second walk");

	/* a removed cgroup keeps the path the last walk saw, until the next walk */
	gone = ino("/gone");
	rm("/gone");
	xtcp_cgroups_begin_poll(&cg);
	ok(xtcp_cgroups_resolve(&cg, gone, &out) == 1 && !strcmp(out.path, "/gone"),
	   "removed after the walk: the path it had");
	is(cg.walks, 2, "known: no walk");
	ok(xtcp_cgroups_resolve(&cg, 0xfffffffffull, &out) == 0, "an unknown id");
	is(cg.walks, 3, "walks");
	ok(xtcp_cgroups_resolve(&cg, gone, &out) == 0 && !*out.path,
	   "after that walk, the removed cgroup has no path");
	xtcp_cgroups_release(&cg);

	/* removed before the first walk: one walk, then remembered */
	mk("/gone");
	gone = ino("/gone");
	rm("/gone");
	xtcp_cgroups_init(&cg, mi);
	xtcp_cgroups_begin_poll(&cg);
	ok(xtcp_cgroups_resolve(&cg, gone, &out) == 0 && !*out.path && !*out.systemd_unit &&
	   !*out.container_id && !*out.pod_uid, "a removed cgroup has no path, nor names");
	is(cg.walks, 1, "one walk");
	is(cg.unknown_ids, 1, "counted");
	ok(cg.first_unknown == gone, "the first unknown id is kept for the note");
	xtcp_cgroups_begin_poll(&cg);
	ok(xtcp_cgroups_resolve(&cg, gone, &out) == 0, "still no path");
	is(cg.walks, 1, "and no walk for it in later polls");
	xtcp_cgroups_begin_poll(&cg);
	ok(xtcp_cgroups_resolve(&cg, 0xfffffffffull, &out) == 0, "another unknown id");
	is(cg.walks, 2, "walks");
	xtcp_cgroups_begin_poll(&cg);
	ok(xtcp_cgroups_resolve(&cg, gone, &out) == 0 && cg.walks == 2,
	   "the removed cgroup is still remembered after that walk");
	is(cg.unknown_ids, 2, "two unknown ids");
	ok(xtcp_cgroups_resolve(&cg, ino("/system.slice/late.service"), &out) == 1 &&
	   !strcmp(out.systemd_unit, "late.service"), "and the rest resolves");
	xtcp_cgroups_release(&cg);

	/* a subtree mount: paths carry its root */
	snprintf(text, sizeof(text), "41 31 0:38 /kubepods.slice %s/cg/kubepods.slice rw - "
		 "cgroup2 cgroup2 rw\n", dir);
	write_file(mi, text);
	xtcp_cgroups_init(&cg, mi);
	xtcp_cgroups_begin_poll(&cg);
	ok(xtcp_cgroups_resolve(&cg, ino("/kubepods.slice/kubepods-besteffort.slice"), &out) == 1 &&
	   !strcmp(out.path, "/kubepods.slice/kubepods-besteffort.slice"),
	   "a subtree mount: paths from the hierarchy's root");
	ok(xtcp_cgroups_resolve(&cg, ino("/kubepods.slice"), &out) == 1 &&
	   !strcmp(out.path, "/kubepods.slice"), "its root");
	xtcp_cgroups_release(&cg);

	/* no cgroup2 mount */
	write_file(mi, "22 1 0:21 / /proc rw,nosuid - proc proc rw\n");
	xtcp_cgroups_init(&cg, mi);
	xtcp_cgroups_begin_poll(&cg);
	ok(xtcp_cgroups_resolve(&cg, ino(""), &out) == 0 && cg.state == XTCP_CGROUPS_NO_MOUNT &&
	   !*out.path, "no mount: no path, and the state says why");
	xtcp_cgroups_release(&cg);

	/* a mount that cannot be opened */
	snprintf(text, sizeof(text), "41 31 0:38 / %s/absent rw - cgroup2 cgroup2 rw\n", dir);
	write_file(mi, text);
	xtcp_cgroups_init(&cg, mi);
	xtcp_cgroups_begin_poll(&cg);
	ok(xtcp_cgroups_resolve(&cg, ino(""), &out) == 0 && cg.state == XTCP_CGROUPS_FAILED &&
	   cg.error == ENOENT, "an unreadable mount: FAILED, with the errno");
	xtcp_cgroups_release(&cg);
}

int main(void)
{
	char cmd[128];

	snprintf(dir, sizeof(dir), "/tmp/t-cgroup.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	test_parse();
	test_mount();
	test_map();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return done_testing();
}
