#!/usr/bin/perl
# 06_redis_relay/fake-redis-hangup.pl PORT GO_FILE — a stand-in for Redis that answers
# and hangs up at a moment the test chooses. It accepts one connection and
# reads nothing (so the relay's writes back up), until GO_FILE exists; then it
# sends one error line and closes with the relay's bytes still unread, so the
# kernel resets the connection: the reply and the reset arrive together.
use strict;
use warnings;
use IO::Socket::INET;

my ($port, $go_file) = @ARGV;
my $server = IO::Socket::INET->new(
    LocalAddr => '127.0.0.1', LocalPort => $port, Listen => 1, ReuseAddr => 1)
    or die "fake-redis-hangup: cannot listen on $port: $!\n";
$| = 1;
my $conn = $server->accept or die "fake-redis-hangup: accept: $!\n";
print "accepted\n";
select(undef, undef, undef, 0.05) until -e $go_file;
syswrite($conn, "-ERR fake: answered, then hung up\r\n");
close $conn;
print "hung up\n";
