#!/usr/bin/env bash
# Checks META.json against the PGXN Meta Spec 1.0.0 (https://pgxn.org/spec/):
# it parses, carries the required keys with the types and values the spec
# allows, and describes this release: its version is learnloop.control's
# default_version, and every file it names is in the tree.  The release's
# other records must agree: debian/changelog's upstream version and a
# CHANGELOG.md section for it.
#   Usage: bash test/package/meta.sh [META.json]   (run from the top of the tree)
# Prints one line per failed check and exits 1 if any failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
meta=${1:-META.json}
control_version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" learnloop.control)

records=0
debian_version=$(sed -n '1s/^[^(]*(\([^)-]*\)-[^)]*).*/\1/p' debian/changelog)
if [ "$debian_version" != "$control_version" ]; then
  echo "debian/changelog: upstream version \"$debian_version\" is not learnloop.control's $control_version"
  records=1
fi
if ! grep -q "^## \[$control_version\]" CHANGELOG.md; then
  echo "CHANGELOG.md: no section \"## [$control_version]\""
  records=1
fi

perl -MJSON::PP -e '
use strict;
use warnings;
my ($file, $control_version) = @ARGV;
my @errors;
sub fail { push @errors, shift }
open my $fh, "<", $file or die "$file: $!\n";
my $meta = eval { local $/; JSON::PP->new->decode(<$fh>) };
if (!$meta) { print "$file does not parse as JSON: $@"; exit 1 }
ref $meta eq "HASH" or do { print "$file: not a JSON object\n"; exit 1 };

my $semver = qr/^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+)?$/;
my %licenses = map { $_ => 1 } qw(agpl_3 apache_1_1 apache_2_0 artistic_1 artistic_2 bsd
	freebsd gfdl_1_2 gfdl_1_3 gpl_1 gpl_2 gpl_3 lgpl_2_1 lgpl_3_0 mit mozilla_1_0 mozilla_1_1
	openssl perl_5 postgresql qpl_1_0 ssleay sun zlib open_source restricted unrestricted unknown);
my $nonempty = sub { defined $_[0] && !ref $_[0] && $_[0] =~ /\S/ };

# required keys
for my $key (qw(name abstract version maintainer license provides meta-spec)) {
	fail("required key \"$key\" is missing") unless exists $meta->{$key};
}
fail("name must be a string without slashes, backslashes or control characters")
	unless $nonempty->($meta->{name}) && $meta->{name} !~ m{[/\\\x00-\x1f]};
fail("abstract must be a non-empty string") unless $nonempty->($meta->{abstract});
fail("version \"" . ($meta->{version} // "") . "\" is not a semantic version")
	unless defined $meta->{version} && $meta->{version} =~ $semver;
fail("version $meta->{version} is not learnloop.control'"'"'s default_version $control_version")
	unless ($meta->{version} // "") eq $control_version;
my $m = $meta->{maintainer};
fail("maintainer must be a string or a list of strings")
	unless $nonempty->($m) || (ref $m eq "ARRAY" && @$m && !grep { !$nonempty->($_) } @$m);
my $l = $meta->{license};
fail("license must be one of the spec'"'"'s names or an object of URLs")
	unless (!ref $l && defined $l && $licenses{$l}) || (ref $l eq "HASH" && %$l)
		|| (ref $l eq "ARRAY" && @$l && !grep { ref $_ || !$licenses{$_} } @$l);
my $spec = $meta->{"meta-spec"};
fail("meta-spec.version must be 1.0.0")
	unless ref $spec eq "HASH" && ($spec->{version} // "") eq "1.0.0";

# provides: each extension with its file and version
my $p = $meta->{provides};
if (ref $p eq "HASH" && %$p) {
	for my $ext (sort keys %$p) {
		my $e = $p->{$ext};
		ref $e eq "HASH" or do { fail("provides.$ext must be an object"); next };
		for my $key (qw(file version)) {
			fail("provides.$ext.$key is required") unless $nonempty->($e->{$key});
		}
		fail("provides.$ext.version is not a semantic version")
			unless ($e->{version} // "") =~ $semver;
		fail("provides.$ext.version is not the release'"'"'s version")
			unless ($e->{version} // "") eq ($meta->{version} // "");
		for my $key (qw(file docfile)) {
			fail("provides.$ext.$key \"$e->{$key}\" is not in the tree")
				if defined $e->{$key} && !-f $e->{$key};
		}
	}
} else {
	fail("provides must be an object naming at least one extension");
}

# optional keys, when present
if (exists $meta->{release_status}) {
	fail("release_status must be stable, testing or unstable")
		unless ($meta->{release_status} // "") =~ /^(stable|testing|unstable)$/;
}
if (exists $meta->{no_index}) {
	my $n = $meta->{no_index};
	if (ref $n eq "HASH") {
		for my $kind (sort keys %$n) {
			fail("no_index.$kind must be file or directory") unless $kind =~ /^(file|directory)$/;
			my @paths = ref $n->{$kind} eq "ARRAY" ? @{$n->{$kind}} : ($n->{$kind});
			for (@paths) {
				fail("no_index.$kind \"$_\" is not in the tree")
					unless $kind eq "file" ? -f $_ : -d $_;
			}
		}
	} else {
		fail("no_index must be an object");
	}
}
if (exists $meta->{prereqs}) {
	my $pr = $meta->{prereqs};
	for my $phase (sort keys %{ref $pr eq "HASH" ? $pr : {}}) {
		fail("prereqs.$phase is not a phase of the spec")
			unless $phase =~ /^(configure|build|test|runtime|develop)$/;
		for my $rel (sort keys %{$pr->{$phase}}) {
			fail("prereqs.$phase.$rel is not a relation of the spec")
				unless $rel =~ /^(requires|recommends|suggests|conflicts)$/;
			while (my ($name, $v) = each %{$pr->{$phase}{$rel}}) {
				fail("prereqs.$phase.$rel.$name: \"$v\" is not a version or range")
					unless $v eq "0" || $v =~ /^\s*(([<>!=]=?|==)\s*)?\d+\.\d+\.\d+(\s*,\s*([<>!=]=?|==)\s*\d+\.\d+\.\d+)*\s*$/;
			}
		}
	}
	fail("prereqs must be an object") unless ref $pr eq "HASH";
}
if (exists $meta->{resources}) {
	my $r = $meta->{resources};
	my $url = qr{^https?://\S+$};
	fail("resources.homepage must be a URL")
		if exists $r->{homepage} && ($r->{homepage} // "") !~ $url;
	fail("resources.bugtracker must have a web URL or a mailto")
		if exists $r->{bugtracker}
			&& !(($r->{bugtracker}{web} // "") =~ $url || ($r->{bugtracker}{mailto} // "") =~ /\@/);
	if (exists $r->{repository}) {
		my $repo = $r->{repository};
		fail("resources.repository must have a url or web")
			unless ($repo->{url} // "") =~ /\S/ || ($repo->{web} // "") =~ $url;
		fail("resources.repository.type must be lower case")
			if defined $repo->{type} && $repo->{type} ne lc $repo->{type};
	}
}
for my $key (qw(description generated_by)) {
	fail("$key must be a non-empty string") if exists $meta->{$key} && !$nonempty->($meta->{$key});
}
if (exists $meta->{tags}) {
	fail("tags must be a list of non-empty strings of at most 255 characters")
		unless ref $meta->{tags} eq "ARRAY"
			&& !grep { !$nonempty->($_) || length $_ > 255 } @{$meta->{tags}};
}

if (@errors) {
	print "$file: $_\n" for @errors;
	exit 1;
}
print "$file: valid PGXN Meta Spec 1.0.0 for release $meta->{version}\n";
' "$meta" "$control_version" || records=1
exit $records
