#!/usr/bin/env bash
# Regenerates the telephony prompts in assets/prompts/ (8 kHz mono 16-bit PCM WAV, what G.711 carries):
# speech with espeak-ng, tones and hold music with sox. Installs both (Debian) if missing.
# The output is deterministic for a given espeak-ng/sox version; assets/prompts/README.md lists the files.
#   scripts/prompts.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=assets/prompts

missing=()
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
command -v sox >/dev/null || missing+=(sox)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=; [ "$(id -u)" -ne 0 ] && sudo=sudo
  echo "prompts: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# espeak-ng 1.51's plain `cmn` voice reads the pinyin it looks up as English ("san one" for 三);
# `cmn-latn-pinyin` reads it as Mandarin (kefu::prompts::mandarin_voice does the same).
mandarin=cmn
espeak-ng --voices=cmn 2>/dev/null | grep -q cmn-latn-pinyin && mandarin=cmn-latn-pinyin

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out/zh-CN" "$out/en"

# sox -R: repeatable dither; output format for every file: 8 kHz, mono, 16-bit signed PCM.
fmt=(-r 8000 -c 1 -b 16 -e signed-integer)

# speak VOICE RATE TEXT OUT: espeak-ng at its own rate, then resampled, normalized to -3 dBFS, with
# 150 ms of silence before and 300 ms after.
speak() {
  espeak-ng -v "$1" -s "$2" -w "$tmp/speech.wav" "$3"
  sox -R "$tmp/speech.wav" "${fmt[@]}" "$4" gain -n -3 pad 0.15 0.3
}

speak "$mandarin" 165 "您好，欢迎致电燃气服务热线。自助语音服务暂时无法使用，请稍后再拨。再见。" \
  "$out/zh-CN/welcome.wav"
speak en-us 160 "Hello, and thank you for calling the gas service hotline. Our self-service menu is not available at the moment, please call again later. Goodbye." \
  "$out/en/welcome.wav"

# beep: 400 ms of 1 kHz at -6 dBFS with 10 ms fades (the "record after the tone" beep).
sox -R -n "${fmt[@]}" "$out/beep.wav" synth 0.4 sine 1000 gain -6 fade 0.01 0.4 0.01

# hold music: a C - Am - F - G progression, 2.5 s per chord, 8 plucked notes per chord over a quiet sine
# pad of the chord's root and fifth; 10 s in all.
chords=(
  "C3 E3 G3 C4 E4 C4 G3 E3|C2 G2"
  "A2 C3 E3 A3 C4 A3 E3 C3|A1 E2"
  "F2 A2 C3 F3 A3 F3 C3 A2|F1 C2"
  "G2 B2 D3 G3 B3 G3 D3 B2|G1 D2"
)
i=0
for chord in "${chords[@]}"; do
  notes=${chord%|*}; pad=${chord#*|}
  n=0
  for note in $notes; do
    sox -R -n "${fmt[@]}" "$tmp/note$n.wav" synth 0.3125 pluck "$note" gain -12 fade 0 0.3125 0.05
    n=$((n + 1))
  done
  sox -R "$tmp"/note{0..7}.wav "$tmp/arp.wav"
  read -r root fifth <<<"$pad"
  sox -R -n "${fmt[@]}" "$tmp/pad.wav" synth 2.5 sine "$root" sine "$fifth" remix - gain -24 fade 0.2 2.5 0.3
  sox -R -m "$tmp/arp.wav" "$tmp/pad.wav" "${fmt[@]}" "$tmp/chord$i.wav"
  i=$((i + 1))
done
sox -R "$tmp"/chord{0..3}.wav "${fmt[@]}" "$out/hold_music.wav" gain -n -6 fade 0.05 10 0.5

for f in "$out"/zh-CN/welcome.wav "$out"/en/welcome.wav "$out"/beep.wav "$out"/hold_music.wav; do
  echo "prompts: $f $(soxi -D "$f")s $(stat -c %s "$f") bytes"
done
