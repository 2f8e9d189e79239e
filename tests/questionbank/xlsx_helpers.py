"""Build .xlsx fixtures in memory for the importer tests."""

from __future__ import annotations

import io
from collections.abc import Sequence

import openpyxl

VI_HEADERS = ["Loại câu hỏi", "Nội dung câu hỏi", "Phương án A", "Phương án B", "Phương án C", "Phương án D",
              "Đáp án đúng", "Giải thích", "Văn bản", "Điều", "Khoản", "Chủ đề", "Độ khó", "Điểm", "Nhãn"]


def workbook_bytes(rows: Sequence[Sequence[object]], headers: Sequence[str] = VI_HEADERS,
                   sheet_title: str = "Câu hỏi") -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet_title
    ws.append(list(headers))
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


VALID_ROWS = [
    ["Một lựa chọn", "Người điều khiển xe mô tô hai bánh khi tham gia giao thông phải làm gì?",
     "Đội mũ bảo hiểm và cài quai đúng quy cách", "Chỉ đội mũ khi đi đường dài", "Không cần đội mũ",
     "Chỉ đội mũ vào ban ngày", "A", "Theo Luật Trật tự, an toàn giao thông đường bộ.", "36/2024/QH15", "33", "2",
     "Giao thông đường bộ > Quy tắc chung", "Dễ", 1, "giao thông, mũ bảo hiểm"],
    ["Nhiều lựa chọn", "Những hành vi nào bị nghiêm cấm theo Luật Phòng, chống tác hại của rượu, bia?",
     "Ép buộc người khác uống rượu, bia", "Người chưa đủ 18 tuổi uống rượu, bia",
     "Uống rượu, bia trong bữa cơm gia đình", "Bán rượu, bia cho người chưa đủ 18 tuổi", "A,B,D",
     "Điều 5 Luật Phòng, chống tác hại của rượu, bia.", "44/2019/QH14", "5", "", "Rượu bia", "Trung bình", 2, ""],
    ["Đúng/Sai", "Nam, nữ kết hôn với nhau phải đăng ký kết hôn tại cơ quan nhà nước có thẩm quyền.",
     "", "", "", "", "Đúng", "", "52/2014/QH13", "9", "1", "Hôn nhân và gia đình", "Dễ", 1, ""],
]
