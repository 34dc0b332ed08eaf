// The stack's counters, named after Linux's SNMP MIB fields (/proc/net/snmp: Ip, Icmp, Tcp,
// Udp) plus a few of /proc/net/netstat. Every dropped packet is counted in one of them.

export class NetStats {
  // Ip
  IpInReceives = 0;
  IpInHdrErrors = 0;
  IpInAddrErrors = 0;
  IpInUnknownProtos = 0;
  IpInDiscards = 0;
  IpInDelivers = 0;
  IpInCsumErrors = 0;
  IpOutRequests = 0;
  IpOutDiscards = 0;
  IpOutNoRoutes = 0;
  IpReasmTimeout = 0;
  IpReasmReqds = 0;
  IpReasmOKs = 0;
  IpReasmFails = 0;
  IpReasmOverlaps = 0;
  IpFragOKs = 0;
  IpFragFails = 0;
  IpFragCreates = 0;
  // Icmp
  IcmpInMsgs = 0;
  IcmpInErrors = 0;
  IcmpInCsumErrors = 0;
  IcmpInDestUnreachs = 0;
  IcmpInTimeExcds = 0;
  IcmpInEchos = 0;
  IcmpInEchoReps = 0;
  IcmpOutMsgs = 0;
  IcmpOutErrors = 0;
  IcmpOutRateLimited = 0;
  IcmpOutDestUnreachs = 0;
  IcmpOutTimeExcds = 0;
  IcmpOutEchos = 0;
  IcmpOutEchoReps = 0;
  // Tcp
  TcpActiveOpens = 0;
  TcpPassiveOpens = 0;
  TcpAttemptFails = 0;
  TcpEstabResets = 0;
  TcpInSegs = 0;
  TcpOutSegs = 0;
  TcpRetransSegs = 0;
  TcpInErrs = 0;
  TcpOutRsts = 0;
  TcpInCsumErrors = 0;
  // TcpExt (netstat)
  TcpExtPAWSEstab = 0;
  TcpExtTCPACKSkippedPAWS = 0;
  TcpExtListenOverflows = 0;
  TcpExtListenDrops = 0;
  TcpExtTCPChallengeACK = 0;
  TcpExtTCPSACKRecovery = 0;
  TcpExtTCPRenoRecovery = 0;
  TcpExtTCPTimeouts = 0;
  TcpExtTCPOFOQueue = 0;
  TcpExtTCPOFODrop = 0;
  TcpExtTCPFastRetrans = 0;
  TcpExtTW = 0;
  TcpExtDelayedACKs = 0;
  TcpExtTCPRcvQDrop = 0;
  TcpExtTCPWinProbe = 0;
  TcpExtTCPKeepAlive = 0;
  // Udp
  UdpInDatagrams = 0;
  UdpNoPorts = 0;
  UdpInErrors = 0;
  UdpOutDatagrams = 0;
  UdpRcvbufErrors = 0;
  UdpSndbufErrors = 0;
  UdpInCsumErrors = 0;
  // Arp
  ArpInErrors = 0;
  ArpOut = 0;
  /** Frames of an EtherType the stack does not handle, or too short for a header. */
  EthInUnknown = 0;

  /** The counters as a plain object (for tests and /proc-style dumps). */
  snapshot(): Record<string, number> {
    return { ...this } as unknown as Record<string, number>;
  }
}
