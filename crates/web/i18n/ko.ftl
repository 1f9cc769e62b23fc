# 트러스트 포털 인터페이스, 한국어.
portal-title = { $org } 트러스트 센터
portal-offerings = 인증 및 증명
portal-no-offerings = 아직 게시된 항목이 없습니다.
portal-current = { $count ->
    [0] 현재 유효한 보고서나 인증서 없음
   *[other] 현재 유효한 보고서 및 인증서 { $count }건
}
portal-language = 언어
portal-home = 트러스트 센터 홈
overview = 개요
relation = { $org }와 { $offering }
in-scope = 적용 대상 서비스
all-services = 모든 서비스
audits = 감사, 보고서 및 인증서
audit-cycle = 감사 주기
cycle-soc = { $program }: 보고서는 { $ends }에 끝나는 { $months }개월 기간을 다루며, 각 기간 종료 후 { $weeks }주 이내에 발행됩니다.
cycle-iso = 인증서는 3년간 유효하며, 1년차와 2년차에 사후 심사를, 만료 전에 갱신 심사를 받습니다.
report-line = { $kind } · { $period } · { $firm }
issued-on = { $date } 발행
opinion = 감사 의견: { $opinion }
certificate-line = { $standard } · 인증서 { $number } · { $body }
valid-until = 유효 기간 { $from } ~ { $until }
next-audit = 다음 심사 ({ $which }): { $date }
scope = 인증 범위
bridge-letter = 브리지 레터: { $from } ~ { $until }
download = 다운로드
restricted = 비밀유지계약(NDA)에 동의한 고객에게 제공
nothing-current = 현재 유효한 보고서나 인증서가 없습니다.
faq = 자주 묻는 질문
resources = 참고 자료
verify-note = 모든 문서에 SHA-256이 표시되어, 보유한 사본을 여기 게시된 문서와 비교할 수 있습니다.
op-unqualified = 적정 의견
op-qualified = 한정 의견
op-adverse = 부적정 의견
op-disclaimer = 의견 거절
ms-surveillance-1 = 1차 사후 심사
ms-surveillance-2 = 2차 사후 심사
ms-recertification = 갱신 심사
verify-link = 문서 확인 방법
verify-title = 문서가 진본이며 현재 유효한지 확인하기
verify-intro = { $org }는 각 인증·증명 항목마다 현재 문서 목록과 각 문서의 SHA-256을 담은 매니페스트를 게시하고, { $org }의 Ed25519 키로 서명합니다. 서명이 유효한 매니페스트에 SHA-256이 있는 문서는 { $org }가 게시했고 현재도 유효한 문서입니다.
verify-hash = 1. 보유한 파일의 SHA-256을 계산합니다: sha256sum report.pdf (Linux), shasum -a 256 report.pdf (macOS), certutil -hashfile report.pdf SHA256 (Windows). 그 값을 매니페스트에서 찾습니다.
verify-attest = 2. 또는 Attest로 서명과 해시를 한 번에 확인합니다:
verify-key = { $org }의 공개 키 ({ $org }에게서 받은 키와 비교하십시오):
verify-manifests = 매니페스트
