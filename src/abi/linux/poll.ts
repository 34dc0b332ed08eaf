// Linux's poll(2) and epoll(7) event bits. Values only.

export const POLLIN = 0x001;
export const POLLPRI = 0x002;
export const POLLOUT = 0x004;
export const POLLERR = 0x008;
export const POLLHUP = 0x010;
export const POLLNVAL = 0x020;
export const POLLRDNORM = 0x040;
export const POLLRDBAND = 0x080;
export const POLLWRNORM = 0x100;
export const POLLWRBAND = 0x200;
export const POLLMSG = 0x400;
export const POLLRDHUP = 0x2000;

export const EPOLLIN = POLLIN;
export const EPOLLPRI = POLLPRI;
export const EPOLLOUT = POLLOUT;
export const EPOLLERR = POLLERR;
export const EPOLLHUP = POLLHUP;
export const EPOLLRDNORM = POLLRDNORM;
export const EPOLLRDBAND = POLLRDBAND;
export const EPOLLWRNORM = POLLWRNORM;
export const EPOLLWRBAND = POLLWRBAND;
export const EPOLLMSG = POLLMSG;
export const EPOLLRDHUP = POLLRDHUP;
export const EPOLLEXCLUSIVE = 1 << 28;
export const EPOLLWAKEUP = 1 << 29;
export const EPOLLONESHOT = 1 << 30;
export const EPOLLET = 1 << 31;

export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
export const EPOLL_CLOEXEC = 0o2000000;
