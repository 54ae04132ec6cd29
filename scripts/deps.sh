#!/usr/bin/env bash
# Installs the programs Koe speaks and encodes with (Debian/Ubuntu), if missing.
set -euo pipefail
missing=()
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
# koe-espeak and koe-flite, the helpers that keep espeak-ng and Flite warm,
# link their libraries: headers and a C compiler (the race detector of
# `make test` needs one too).
[ -f /usr/include/espeak-ng/speak_lib.h ] || missing+=(libespeak-ng-dev)
[ -f /usr/include/flite/flite.h ] || missing+=(flite1-dev)
command -v gcc >/dev/null || missing+=(gcc libc6-dev)
command -v lame >/dev/null || missing+=(lame)
command -v opusenc >/dev/null || missing+=(opus-tools)
# Flite and Festival: English voices more natural than espeak-ng's.
command -v flite >/dev/null || missing+=(flite)
command -v festival >/dev/null || missing+=(festival)
[ -d /usr/share/festival/voices/us/cmu_us_slt_arctic_hts ] || missing+=(festvox-us-slt-hts)
[ -d /usr/share/festival/voices/english/kal_diphone ] || missing+=(festvox-kallpc16k)
# Open JTalk and its dictionary: Japanese voices where a .htsvoice file is
# installed (KOE_OPENJTALK_VOICES; Debian's archive here has none).
command -v open_jtalk >/dev/null || missing+=(open-jtalk)
[ -f /var/lib/mecab/dic/open-jtalk/naist-jdic/sys.dic ] || missing+=(open-jtalk-mecab-naist-jdic)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
