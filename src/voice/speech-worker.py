"""Taawun's local speech worker: reads audio files named on stdin, writes transcripts on stdout.

One JSON object per line each way. The server starts it (src/voice/local-transcriber.ts),
sends {"id", "file", "language", "maxSeconds"} and reads {"id", "ok", ...}. The first line
written is {"ready": true, ...} once the model is loaded, or {"ready": false, "error"} when
it cannot be. Nothing here reaches the network: the model is a folder (VOICE_MODEL), or the
Whisper base model the install put under the cache folder.
"""

import json
import os
import sys
import time


def say(message):
    sys.stdout.write(json.dumps(message, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def load(model_path, threads):
    # Imported here so a missing package is reported as a ready:false line, not a traceback.
    from faster_whisper import WhisperModel

    # A folder is used as it is; a name ("small", "user/whisper-darija") is fetched by
    # faster-whisper where a network exists, which only an admin's VOICE_MODEL asks for.
    return WhisperModel(model_path, device="cpu", compute_type="int8", cpu_threads=threads, local_files_only=os.path.isdir(model_path))


def transcribe(model, request):
    from faster_whisper.audio import decode_audio

    try:
        audio = decode_audio(request["file"], sampling_rate=16000)
    except Exception as err:  # PyAV raises many kinds for a file that is not audio
        return {"ok": False, "error": "unreadable", "message": f"the file is not audio it can decode: {err}"}
    seconds = len(audio) / 16000.0
    if seconds < 0.1:
        return {"ok": False, "error": "unreadable", "message": "the file holds no sound", "seconds": seconds}
    if seconds > float(request.get("maxSeconds") or 600):
        return {"ok": False, "error": "too_long", "message": f"{seconds:.0f} s is longer than allowed", "seconds": seconds}
    started = time.monotonic()
    language = request.get("language") or None
    if not language and request.get("languages"):
        # A customer not heard before: Whisper's own guess, kept to the languages the bot
        # speaks (left free, it reads Moroccan speech as Persian or Urdu as often as Arabic).
        _, _, ranked = model.detect_language(audio)
        allowed = [(code, p) for code, p in ranked if code in request["languages"]]
        language = max(allowed, key=lambda pair: pair[1])[0] if allowed else None
    segments, info = model.transcribe(
        audio,
        language=language,
        beam_size=1,
        vad_filter=bool(request.get("vad", True)),
        condition_on_previous_text=False,
    )
    words, logprob, weight, no_speech = [], 0.0, 0, 1.0
    for segment in segments:
        text = segment.text.strip()
        if text:
            words.append(text)
        # Weighted by length: a long segment says more about the whole than a short one.
        length = max(segment.end - segment.start, 0.01)
        logprob += segment.avg_logprob * length
        weight += length
        no_speech = min(no_speech, segment.no_speech_prob)
    return {
        "ok": True,
        "text": " ".join(words).strip(),
        "language": info.language,
        "seconds": seconds,
        "avgLogprob": (logprob / weight) if weight else None,
        "noSpeechProb": no_speech,
        "ms": round((time.monotonic() - started) * 1000),
    }


def main():
    model_path = os.environ.get("VOICE_MODEL_PATH", "")
    threads = int(os.environ.get("VOICE_THREADS", "0") or 0)
    started = time.monotonic()
    try:
        model = load(model_path, threads)
    except Exception as err:
        say({"ready": False, "error": f"{type(err).__name__}: {err}"})
        return 1
    say({"ready": True, "model": model_path, "loadMs": round((time.monotonic() - started) * 1000), "pid": os.getpid()})
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            request = json.loads(line)
        except json.JSONDecodeError:
            say({"id": None, "ok": False, "error": "bad_request", "message": "a line that is not JSON"})
            continue
        try:
            answer = transcribe(model, request)
        except Exception as err:
            answer = {"ok": False, "error": "failed", "message": f"{type(err).__name__}: {err}"}
        say({"id": request.get("id"), **answer})
    return 0


if __name__ == "__main__":
    sys.exit(main())
