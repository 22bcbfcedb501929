/*
 * version - hijackd's version, shared by the daemon, hijackctl and the User-Agent of webhooks
 */
#ifndef HJ_VERSION_H
#define HJ_VERSION_H

#define HJ_VERSION "0.2.0"

#endif
